// Networks on CIFAR-10: the worker's Problem is a signvote::nn model fed by
// this worker's shard of the training split (src/data).
#include "data/cifar10.h"
#include "data/loader.h"
#include "signvote/model.h"
#include "config/run_plan.h"
#include "signvote/aligned_buffer.h"
#include "worker/problem.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace signvote::worker {
namespace {

constexpr int kEvalBatch = 500;

data::Cifar10Layout layout(const Config& cfg) {
  return {static_cast<size_t>(cfg.data.train_files), static_cast<size_t>(cfg.data.records_per_file)};
}

class Network final : public Problem {
 public:
  Network(const Config& cfg, int k, int W, int device_index)
      : model_(nn::make_model(spec_on(cfg, device_index))),
        train_(data::load_cifar10(cfg.data.path, data::Split::train, static_cast<size_t>(cfg.data.val_count), layout(cfg))),
        loader_(train_, loader_options(cfg, k, W)),
        images_(nn::Shape{static_cast<int>(cfg.data.batch_size), 3, 32, 32}),
        labels_(static_cast<size_t>(cfg.data.batch_size)) {
    if (cfg.data.val_count > 0)
      val_ = data::load_cifar10(cfg.data.path, data::Split::val, static_cast<size_t>(cfg.data.val_count), layout(cfg));
    check_probe_batches(cfg, W);
    logical_ = loader_.state();
    if (model_->space() == MemSpace::cuda) {
      hx_ = AlignedBuffer<float>(model_->params().size());
      hg_ = AlignedBuffer<float>(model_->grads().size());
      hb_ = AlignedBuffer<float>(model_->buffers().size());
      pull(Flat::params), pull(Flat::buffers);
    }
    if (k == 0)
      spdlog::info("data: {} training and {} validation images from {} ({} files of {})", train_.size(), val_.size(),
                   cfg.data.path, cfg.data.train_files, cfg.data.records_per_file);
  }

  // Host spans: the model's own (cpu) or the mirrors (cuda).
  std::span<float> params() override { return cuda() ? hx_.span() : model_->params(); }
  std::span<float> grads() override { return cuda() ? hg_.span() : model_->grads(); }
  std::span<float> buffers() override { return cuda() ? hb_.span() : model_->buffers(); }
  MemSpace space() const override { return model_->space(); }
  void set_grad_ready_hook(std::function<void(size_t)> hook) override { model_->set_grad_ready_hook(std::move(hook)); }
  void* cuda_stream() override { return model_->cuda_stream(); }
  std::span<float> device(Flat f) override {
    if (!cuda()) return {};
    return f == Flat::params ? model_->params() : f == Flat::grads ? model_->grads() : model_->buffers();
  }
  void pull(Flat f) override {
    if (cuda()) copy_floats(host(f).data(), MemSpace::host, device(f).data(), MemSpace::cuda, host(f).size());
  }
  void push(Flat f) override {
    if (cuda()) copy_floats(device(f).data(), MemSpace::cuda, host(f).data(), MemSpace::host, host(f).size());
  }
  uint64_t epoch() const override { return logical_.epoch; }
  bool epoch_ended() const override {
    return step_in_epoch() == data::batches_in_epoch(logical_, loader_.options().drop_last);
  }
  bool has_validation() const override { return val_.size() > 0; }

  // The next batch is augmented while this one is in flight (`meanwhile`:
  // on a cuda model that overlaps the GPU's forward and backward). The
  // loader then runs one batch ahead, so everything that reports the data
  // position (epochs, checkpoints) reads `logical_`, its state right after
  // the batch being trained on: a run resumed from a checkpoint continues
  // with exactly the batches it would have seen.
  StepResult compute(uint64_t) override {
    if (!prefetched_) fetch();
    prefetched_ = false;
    const int n = n_;
    logical_ = loader_.state();
    model_->zero_grads();
    nn::StepStats st;
    const float loss = model_->forward_backward(images_, labels_.data(), n, &st, [this] {
      fetch();
      prefetched_ = true;
    });
    return {loss, static_cast<uint32_t>(st.correct), static_cast<uint32_t>(n)};
  }

  EvalSums evaluate(int k, int K) override {
    data::EvalLoader ev(val_, kEvalBatch, data::Normalize{}, k, K);
    nn::Tensor img(nn::Shape{kEvalBatch, 3, 32, 32});
    std::vector<int> lab(kEvalBatch);
    EvalSums sums;
    int n = 0;
    while (ev.next(img.data(), lab.data(), &n)) {
      const auto r = model_->evaluate(img, lab.data(), n);
      sums.loss_sum += r.loss_sum;
      sums.correct += r.correct;
      sums.count += r.count;
    }
    return sums;
  }

  bool at_epoch_start(uint64_t* e) const override {
    const bool start = step_in_epoch() == 0 || epoch_ended();
    if (start) *e = epoch_ended() ? epoch() + 1 : epoch();
    return start;
  }

  std::vector<ParamSlice> param_slices() const override {
    std::vector<ParamSlice> out;
    for (const auto& r : model_->param_ranges()) out.push_back({r.name, r.offset, r.count});
    return out;
  }

  size_t probe(int k, int K, int batch, size_t max_batches, const ProbeVisit& visit) override {
    pull(Flat::buffers);
    const auto b = buffers();
    const std::vector<float> own(b.begin(), b.end());  // BN running stats, restored below
    data::EvalLoader ld(train_, batch, data::Normalize{}, k, K);
    nn::Tensor img(nn::Shape{batch, 3, 32, 32});
    std::vector<int> lab(static_cast<size_t>(batch));
    size_t done = 0;
    int n = 0;
    while ((max_batches == 0 || done < max_batches) && ld.next(img.data(), lab.data(), &n) && n == batch) {
      model_->zero_grads();
      model_->forward_backward(img, lab.data(), n, nullptr);
      pull(Flat::grads);
      visit(grads());
      ++done;
    }
    std::copy(own.begin(), own.end(), b.begin());
    push(Flat::buffers);
    return done;
  }

  std::string save_state() const override { return logical_.to_bytes(); }
  // A state saved under another sharding (a resume with another worker
  // count, or a new worker joining from a peer's state) is re-cut first:
  // this worker continues the epoch the old workers left (data/loader.h).
  void restore_state(const std::string& bytes) override {
    data::LoaderState s = data::LoaderState::from_bytes(bytes);
    const auto& o = loader_.options();
    if (s.shard_count != static_cast<uint64_t>(o.shard_count) || s.shard_index != static_cast<uint64_t>(o.shard_index))
      s = data::reshard(s, o.shard_index, o.shard_count);
    logical_ = s;
    loader_.restore(logical_);
    prefetched_ = false;
  }
  void join_state(const std::string& peer) override { restore_state(peer); }

 private:
  bool cuda() const { return model_->space() == MemSpace::cuda; }
  // The next training batch into images_/labels_ (n_ images); at an epoch's
  // end the loader answers false once, then starts the next epoch.
  void fetch() {
    if (!loader_.next(images_.data(), labels_.data(), &n_)) loader_.next(images_.data(), labels_.data(), &n_);
  }
  uint64_t step_in_epoch() const {  // as Loader::step_in_epoch, of logical_
    const auto b = static_cast<uint64_t>(loader_.options().batch);
    return (logical_.position + b - 1) / b;
  }
  std::span<float> host(Flat f) { return f == Flat::params ? hx_.span() : f == Flat::grads ? hg_.span() : hb_.span(); }
  static nn::ModelSpec spec_on(const Config& cfg, int device_index) {
    nn::ModelSpec s = model_spec(cfg);
    s.device_index = device_index;
    return s;
  }

  // SNR needs >= 2 probe batches per pass: periodic passes take min(probes.batches,
  // available) per worker, so the shard must hold two batches.
  void check_probe_batches(const Config& cfg, int W) const {
    if (cfg.probes.every == 0 && cfg.probes.epochs.empty()) return;
    const int64_t batch = cfg.probes.batch_size > 0 ? cfg.probes.batch_size : cfg.data.batch_size;
    const auto shard = static_cast<int64_t>(train_.size()) / W;
    if (shard < 2 * batch)
      throw std::invalid_argument(fmt::format(
          "key 'probes.batch_size': {} images per worker's training shard hold fewer than 2 probe batches of {}",
          shard, batch));
  }

  static data::LoaderOptions loader_options(const Config& cfg, int k, int W) {
    data::LoaderOptions o;
    o.batch = static_cast<int>(cfg.data.batch_size);
    o.shard_index = k;
    o.shard_count = W;
    o.seed = cfg.run.seed;
    o.augment = cfg.data.augment;
    o.pad_mode = cfg.data.pad_mode_kind;
    return o;
  }

  std::unique_ptr<nn::Model> model_;
  AlignedBuffer<float> hx_, hg_, hb_;  // host mirrors of a cuda model's flat buffers
  data::Dataset train_, val_;
  data::Loader loader_;
  nn::Tensor images_;
  std::vector<int> labels_;
  int n_ = 0;
  bool prefetched_ = false;      // images_/labels_ hold the next batch already
  data::LoaderState logical_;    // the loader's state after the batch last trained on
};

}  // namespace

std::unique_ptr<Problem> make_network(const Config& cfg, int worker_index, int workers, int device_index) {
  return std::make_unique<Network>(cfg, worker_index, workers, device_index);
}

}  // namespace signvote::worker
