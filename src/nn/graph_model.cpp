// GraphModel: flat parameter layout, activation storage, forward/backward.
#include "graph_model.h"

#include "add.h"

#include "eigen_core.h"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <stdexcept>

namespace signvote::nn {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
}  // namespace

GraphModel::GraphModel(const ModelSpec& spec, std::string backend)
    : spec_(spec), backend_(std::move(backend)) {
  ctx_.threads = spec.threads;
  if (backend_.starts_with("dnnl")) ctx_.dnnl = make_dnnl_context();  // dnnl, dnnl_wino
  acts_.push_back({Shape{1, spec.in_channels, spec.image_size, spec.image_size}, Layout::nchw, 0});
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
  params_ = AlignedBuffer(np);
  grads_ = AlignedBuffer(np);
  buffers_ = AlignedBuffer(nb);
  std::mt19937_64 rng(spec_.seed);
  size_t po = 0, bo = 0;
  for (Node& n : nodes_) {
    if (!n.layer) continue;
    n.layer->bind_params(params_.data() + po, grads_.data() + po);
    n.layer->bind_buffers(buffers_.data() + bo);
    for (const auto& d : n.layer->param_decls()) po += d.count;
    for (const auto& d : n.layer->buffer_decls()) bo += d.count;
    n.layer->init_params(rng);  // in node order: deterministic in the seed
  }
}

void GraphModel::zero_grads() { std::fill_n(grads_.data(), grads_.size(), 0.f); }

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
    const bool first = store_.empty();  // activation 0 is the caller's images
    store_.emplace_back(first ? Tensor() : Tensor(s, a.layout));
    gstore_.emplace_back(first ? Tensor() : Tensor(s, a.layout));
    // Scratch for summing gradients of activations with several consumers.
    sstore_.emplace_back(first || a.consumers < 2 ? Tensor() : Tensor(s, a.layout));
  }
  capacity_ = batch;
}

Tensor GraphModel::view_of(std::vector<Tensor>& store, int act, int batch) {
  Tensor& t = store[size_t(act)];
  if (t.empty()) return Tensor();
  Shape s = t.shape();
  s.n = batch;
  return Tensor::view(t.data(), s, t.layout());
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
  Shape s = images.shape();
  s.n = batch;
  views_[0] = Tensor::view(const_cast<float*>(images.data()), s, Layout::nchw);  // read-only use
}

void GraphModel::run_forward(Mode mode) {
  for (const Node& n : nodes_) {
    const auto t0 = Clock::now();
    if (n.layer) {
      n.layer->forward(views_[size_t(n.in0)], views_[size_t(n.out)], mode);
      times_[n.layer->kind()] += seconds_since(t0);
    } else {
      const Tensor &a = views_[size_t(n.in0)], &b = views_[size_t(n.in1)];
      if (n.relu) Add::forward_relu(a, b, views_[size_t(n.out)]);
      else Add::forward(a, b, views_[size_t(n.out)]);
      times_[LayerKind::add] += seconds_since(t0);
    }
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
    if (acc) Add::accumulate(dx, gviews_[size_t(n.in0)]);
    return;
  }
  for (int in : {n.in0, n.in1}) {
    Tensor& dx = grad_target(in, written, &acc);
    if (dx.empty()) continue;
    Tensor& dst = acc ? gviews_[size_t(in)] : dx;  // never via scratch: add directly
    if (n.relu) {
      Add::backward_relu(views_[size_t(n.out)], dy, dst, acc);
    } else if (acc) {
      Add::accumulate(dy, dst);
    } else {
      Tensor none;
      Add::backward(dy, dst, none);
    }
  }
}

void GraphModel::run_backward() {
  std::vector<char> written(acts_.size(), 0);
  written.back() = 1;  // the logits gradient comes from the loss
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    const auto t0 = Clock::now();
    backward_node(*it, written);
    times_[it->layer ? it->layer->kind() : LayerKind::add] += seconds_since(t0);
  }
}

float GraphModel::forward_backward(const Tensor& images, const int* labels, int batch,
                                   StepStats* stats) {
  check_input(images, batch);
  const ThreadScope threads(ctx_.threads);
  make_views(images, batch);
  run_forward(Mode::train);
  auto t0 = Clock::now();
  const LossResult r = loss_.forward(views_.back(), labels);
  loss_.backward(gviews_.back());
  times_[LayerKind::loss] += seconds_since(t0);
  run_backward();
  if (stats) *stats = {float(r.loss_mean), r.correct, batch};
  return float(r.loss_mean);
}

EvalResult GraphModel::evaluate(const Tensor& images, const int* labels, int batch) {
  check_input(images, batch);
  const ThreadScope threads(ctx_.threads);
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
    const LossResult r = loss_.forward(views_.back(), labels + b0);
    out.loss_sum += r.loss_sum;
    out.correct += r.correct;
    out.count += nb;
  }
  return out;
}

std::string GraphModel::summary() const {
  std::ostringstream os;
  os << spec_.name << " width=" << spec_.width << " params=" << num_params()
     << " conv_backend=" << backend_ << " threads=" << ctx_.threads << "\n";
  for (const Node& n : nodes_) {
    const Act& a = acts_[size_t(n.out)];
    os << "  " << n.name << ": " << (n.layer ? n.layer->describe() : std::string("add"))
       << " -> " << to_string(a.shape) << " " << layout_name(a.layout) << "\n";
  }
  return os.str();
}

}  // namespace signvote::nn
