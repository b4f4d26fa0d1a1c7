// GraphModel: flat parameter layout, activation storage, forward/backward.
#include "graph_model.h"

#include "eigen_core.h"

#ifdef SIGNVOTE_NN_CUDA
#include "cuda_context.h"
#endif

#include <algorithm>
#include <climits>
#include <cstdint>
#include <sstream>
#include <stdexcept>

namespace signvote::nn {

GraphModel::GraphModel(const ModelSpec& spec, std::string backend)
    : spec_(spec), backend_(std::move(backend)) {
  ctx_.threads = spec.threads;
  if (spec.device == ModelDevice::cuda) {
    ctx_.space = MemSpace::cuda;
    ctx_.cuda = make_cuda_context(spec);
    ops_ = make_cuda_ops(ctx_.cuda);
  } else {
    if (backend_.starts_with("dnnl")) ctx_.dnnl = make_dnnl_context();  // dnnl, dnnl_wino
    ops_ = make_host_ops();
  }
  // The images: host NCHW, staged on the device in the model's layout.
  const Layout in = spec.layout == ModelLayout::nhwc ? Layout::nhwc : Layout::nchw;
  acts_.push_back({Shape{1, spec.in_channels, spec.image_size, spec.image_size}, in, 0});
}

GraphModel::~GraphModel() = default;

int GraphModel::add_layer(const std::string& name, std::unique_ptr<Layer> layer, int in) {
  const Act& a = acts_.at(size_t(in));
  Act out{layer->output_shape(a.shape), layer->output_layout(a.layout), 0};
  acts_[size_t(in)].consumers++;
  acts_.push_back(out);
  nodes_.push_back({name, std::move(layer), in, -1, int(acts_.size()) - 1});
  return nodes_.back().out;
}

int GraphModel::add_residual(const std::string& name, int a, int b, bool relu) {
  const Act &x = acts_.at(size_t(a)), &y = acts_.at(size_t(b));
  require(x.shape == y.shape && x.layout == y.layout,
          "residual " + name + ": " + to_string(x.shape) + " vs " + to_string(y.shape));
  acts_[size_t(a)].consumers++;
  acts_[size_t(b)].consumers++;
  acts_.push_back({x.shape, x.layout, 0});
  nodes_.push_back({name, nullptr, a, b, int(acts_.size()) - 1, relu});
  return nodes_.back().out;
}

void GraphModel::finalize() {
  size_t np = 0, nb = 0;
  for (const Node& n : nodes_) {
    if (!n.layer) continue;
    for (const auto& d : n.layer->param_decls()) {
      param_ranges_.push_back({n.name + "." + d.name, np, d.count, n.layer->kind()});
      np += d.count;
    }
    for (const auto& d : n.layer->buffer_decls()) {
      buffer_ranges_.push_back({n.name + "." + d.name, nb, d.count, n.layer->kind()});
      nb += d.count;
    }
  }
  // Layers initialise host memory (the same code and RNG stream on either
  // device, so a cpu and a cuda model of one seed start equal): a host model
  // its own buffers; a cuda model host staging, copied up, and its layers
  // rebound to the device buffers.
  allocate_flat(np, nb);
  if (ctx_.space == MemSpace::host) {
    bind_all(params_.data(), grads_.data(), buffers_.data(), /*init=*/true);
    return;
  }
  AlignedBuffer hp(np), hg(np), hb(nb);
  bind_all(hp.data(), hg.data(), hb.data(), /*init=*/true);
  copy_floats(params_.data(), MemSpace::cuda, hp.data(), MemSpace::host, np);
  copy_floats(buffers_.data(), MemSpace::cuda, hb.data(), MemSpace::host, nb);
  bind_all(params_.data(), grads_.data(), buffers_.data(), /*init=*/false);
}

void GraphModel::bind_all(float* params, float* grads, float* buffers, bool init) {
  std::mt19937_64 rng(spec_.seed);
  size_t po = 0, bo = 0;
  node_first_param_.assign(nodes_.size(), SIZE_MAX);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (!n.layer) continue;
    if (!n.layer->param_decls().empty()) node_first_param_[i] = po;
    n.layer->bind_params(params + po, grads + po);
    n.layer->bind_buffers(buffers + bo);
    for (const auto& d : n.layer->param_decls()) po += d.count;
    for (const auto& d : n.layer->buffer_decls()) bo += d.count;
    if (init) n.layer->init_params(rng);  // in node order: deterministic in the seed
  }
}

void GraphModel::allocate_flat(size_t np, size_t nb) {
  require(np <= size_t(INT_MAX) && nb <= size_t(INT_MAX), "model: more than 2^31-1 parameters");
  auto make = [&](size_t n) { return n == 0 ? Tensor() : Tensor(Shape{int(n), 1, 1, 1}, Layout::nchw, ctx_.space); };
  params_ = make(np);
  grads_ = make(np);
  buffers_ = make(nb);
}

void* GraphModel::cuda_stream() const {
#ifdef SIGNVOTE_NN_CUDA
  if (ctx_.cuda) return ctx_.cuda->stream;
#endif
  return nullptr;
}

// A process may hold models on several devices: each call makes its own current.
void GraphModel::activate_device() const {
#ifdef SIGNVOTE_NN_CUDA
  if (ctx_.cuda) ctx_.cuda->activate();
#endif
}

void GraphModel::zero_grads() {
  activate_device();
  ops_->zero(grads_.data(), flat_size(grads_));
}

// OpenMP's thread count is a per-calling-thread setting that oneDNN and our
// loops read; Eigen's is process-wide. Both are set for the duration of one
// forward_backward/evaluate call and restored afterwards, so the model does
// not change the caller's settings.
class GraphModel::ThreadScope {
 public:
  explicit ThreadScope(int threads) : eigen_prev_(Eigen::nbThreads()) {
#ifdef _OPENMP
    omp_prev_ = omp_get_max_threads();
    omp_set_num_threads(threads);
#endif
    Eigen::setNbThreads(threads);
  }
  ~ThreadScope() {
#ifdef _OPENMP
    omp_set_num_threads(omp_prev_);
#endif
    Eigen::setNbThreads(eigen_prev_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int eigen_prev_;
  int omp_prev_ = 1;
};

const Tensor& GraphModel::logits() const {
  if (views_.empty()) throw std::logic_error("Model::logits(): no forward pass yet");
  return views_.back();
}

void GraphModel::check_input(const Tensor& images, int batch) const {
  const Shape& s = acts_[0].shape;
  require(batch > 0 && batch <= images.n(), "model: batch " + std::to_string(batch) +
                                                " not in [1, images.n()=" +
                                                std::to_string(images.n()) + "]");
  require(images.layout() == Layout::nchw && images.c() == s.c && images.h() == s.h &&
              images.w() == s.w,
          "model: images " + to_string(images.shape()) + " do not match (N," +
              std::to_string(s.c) + "," + std::to_string(s.h) + "," + std::to_string(s.w) +
              ") nchw");
}

void GraphModel::ensure_capacity(int batch) {
  if (batch <= capacity_) return;
  store_.clear();
  gstore_.clear();
  sstore_.clear();
  for (const Act& a : acts_) {
    Shape s = a.shape;
    s.n = batch;
    // Activation 0 is the caller's images (a device copy on cuda).
    const bool first = store_.empty();
    const MemSpace sp = ctx_.space;
    store_.emplace_back(first && sp == MemSpace::host ? Tensor() : Tensor(s, a.layout, sp));
    gstore_.emplace_back(first ? Tensor() : Tensor(s, a.layout, sp));
    // Scratch for summing gradients of activations with several consumers.
    sstore_.emplace_back(first || a.consumers < 2 ? Tensor() : Tensor(s, a.layout, sp));
  }
  capacity_ = batch;
}

Tensor GraphModel::view_of(std::vector<Tensor>& store, int act, int batch) {
  Tensor& t = store[size_t(act)];
  if (t.empty()) return Tensor();
  Shape s = t.shape();
  s.n = batch;
  return Tensor::view(t.data(), s, t.layout(), t.space());
}

void GraphModel::make_views(const Tensor& images, int batch) {
  ensure_capacity(batch);
  views_.clear();
  gviews_.clear();
  sviews_.clear();
  for (int i = 0; i < int(acts_.size()); ++i) {
    views_.push_back(view_of(store_, i, batch));
    gviews_.push_back(view_of(gstore_, i, batch));
    sviews_.push_back(view_of(sstore_, i, batch));
  }
  views_[0] = ops_->stage_input(images, batch, store_[0]);
}

void GraphModel::run_forward(Mode mode) {
  for (const Node& n : nodes_) {
    ops_->begin_timing();
    if (n.layer) {
      n.layer->forward(views_[size_t(n.in0)], views_[size_t(n.out)], mode);
    } else {
      ops_->add(views_[size_t(n.in0)], views_[size_t(n.in1)], views_[size_t(n.out)], n.relu);
    }
    ops_->end_timing(n.layer ? n.layer->kind() : LayerKind::add);
  }
}

// Where the gradient for `act` goes: straight into its gradient tensor for
// the first consumer seen in backward (overwrite), into the scratch tensor
// (then summed) for later ones. Activation 0 (images) needs no gradient.
Tensor& GraphModel::grad_target(int act, std::vector<char>& written, bool* accumulate) {
  *accumulate = false;
  if (act == 0) return none_;
  if (!written[size_t(act)]) {
    written[size_t(act)] = 1;
    return gviews_[size_t(act)];
  }
  *accumulate = true;
  return sviews_[size_t(act)];
}

void GraphModel::backward_node(const Node& n, std::vector<char>& written) {
  const Tensor& dy = gviews_[size_t(n.out)];
  bool acc = false;
  if (n.layer) {
    Tensor& dx = grad_target(n.in0, written, &acc);
    n.layer->backward(views_[size_t(n.in0)], views_[size_t(n.out)], dy, dx);
    if (acc) ops_->add_backward(nullptr, dx, gviews_[size_t(n.in0)], true);
    return;
  }
  for (int in : {n.in0, n.in1}) {
    Tensor& dx = grad_target(in, written, &acc);
    if (dx.empty()) continue;
    Tensor& dst = acc ? gviews_[size_t(in)] : dx;  // never via scratch: add directly
    ops_->add_backward(n.relu ? &views_[size_t(n.out)] : nullptr, dy, dst, acc);
  }
}

void GraphModel::run_backward() {
  std::vector<char> written(acts_.size(), 0);
  written.back() = 1;  // the logits gradient comes from the loss
  // Host models tell the hook as layers finish; a cuda model's work is
  // still queued here, so it is told once the pass is done (forward_backward).
  const bool tell = ready_hook_ && ctx_.space == MemSpace::host;
  size_t ready = num_params();
  for (size_t i = nodes_.size(); i-- > 0;) {
    ops_->begin_timing();
    backward_node(nodes_[i], written);
    ops_->end_timing(nodes_[i].layer ? nodes_[i].layer->kind() : LayerKind::add);
    if (tell && node_first_param_[i] < ready) ready_hook_(ready = node_first_param_[i]);
  }
  if (tell && ready != 0) ready_hook_(0);
}

float GraphModel::forward_backward(const Tensor& images, const int* labels, int batch, StepStats* stats,
                                   const std::function<void()>& meanwhile) {
  check_input(images, batch);
  const ThreadScope threads(ctx_.threads);
  activate_device();
  make_views(images, batch);
  run_forward(Mode::train);
  ops_->begin_timing();
  ops_->loss_forward(views_.back(), labels);
  ops_->loss_backward(gviews_.back());
  ops_->end_timing(LayerKind::loss);
  run_backward();
  if (meanwhile) meanwhile();  // cuda: the device is still working
  const LossResult r = ops_->loss_result();  // waits for a cuda device
  if (ready_hook_ && ctx_.space == MemSpace::cuda) ready_hook_(0);
  ops_->collect_times(times_);
  if (stats) *stats = {float(r.loss_mean), r.correct, batch};
  return float(r.loss_mean);
}

EvalResult GraphModel::evaluate(const Tensor& images, const int* labels, int batch) {
  check_input(images, batch);
  const ThreadScope threads(ctx_.threads);
  activate_device();
  const int chunk = capacity_ > 0 ? capacity_ : std::min(batch, 64);
  EvalResult out;
  for (int b0 = 0; b0 < batch; b0 += chunk) {
    const int nb = std::min(chunk, batch - b0);
    const Shape s = images.shape();
    const size_t per = size_t(s.c) * s.h * s.w;
    const Tensor part = Tensor::view(const_cast<float*>(images.data()) + size_t(b0) * per,
                                     {nb, s.c, s.h, s.w}, Layout::nchw);
    make_views(part, nb);
    run_forward(Mode::eval);
    ops_->loss_forward(views_.back(), labels + b0);
    const LossResult r = ops_->loss_result();
    ops_->collect_times(times_);
    out.loss_sum += r.loss_sum;
    out.correct += r.correct;
    out.count += nb;
  }
  return out;
}

std::string GraphModel::summary() const {
  std::ostringstream os;
  os << enum_name(spec_.name) << " width=" << spec_.width << " params=" << num_params()
     << " conv_backend=" << backend_ << " threads=" << ctx_.threads;
#ifdef SIGNVOTE_NN_CUDA
  if (ctx_.cuda)
    os << " device=cuda:" << ctx_.cuda->device << " " << ctx_.cuda->device_name << " math=" << enum_name(spec_.math)
       << " layout=" << layout_name(ctx_.cuda->layout);
#endif
  os << "\n";
  for (const Node& n : nodes_) {
    const Act& a = acts_[size_t(n.out)];
    os << "  " << n.name << ": " << (n.layer ? n.layer->describe() : std::string("add"))
       << " -> " << to_string(a.shape) << " " << layout_name(a.layout) << "\n";
  }
  return os.str();
}

}  // namespace signvote::nn
