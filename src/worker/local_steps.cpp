#include "worker/local_steps.h"

#include "config/run_plan.h"
#include "signvote/aligned_buffer.h"
#include "worker/optimizer.h"
#include "worker/optimizer_state.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace signvote::worker {
namespace {

// The checkpoint blob: kMagic, the base problem's state (8-byte length +
// bytes), then the inner optimizer's m and v (float32, d each; v empty for SGD).
constexpr char kMagic[8] = {'L', 'O', 'C', 'A', 'L', 'v', '1', '\n'};

class LocalSteps final : public Problem {
 public:
  LocalSteps(const Config& cfg, std::unique_ptr<Problem> base)
      : base_(std::move(base)), h_(round_steps(cfg)), run_(cfg.run), rule_(inner_rule(cfg)),
        state_(base_->params().size(), false, rule_.adam(), {}), start_(base_->params().size()) {}

  std::span<float> params() override { return base_->params(); }
  std::span<float> grads() override { return base_->grads(); }
  std::span<float> buffers() override { return base_->buffers(); }
  MemSpace space() const override { return base_->space(); }
  std::span<float> device(Flat f) override { return base_->device(f); }
  void* cuda_stream() override { return base_->cuda_stream(); }
  void pull(Flat f) override { base_->pull(f); }
  void push(Flat f) override { base_->push(f); }
  bool epoch_ended() const override { return ended_; }
  uint64_t epoch() const override { return base_->epoch(); }
  bool has_validation() const override { return base_->has_validation(); }
  EvalSums evaluate(int k, int K) override { return base_->evaluate(k, K); }
  bool at_epoch_start(uint64_t* epoch) const override { return base_->at_epoch_start(epoch); }
  std::vector<ParamSlice> param_slices() const override { return base_->param_slices(); }

  // Inner steps step-H+1 .. step (1-based, so the inner schedule and AdamW's
  // bias correction count every inner step of the run), then g = x_start - x
  // and x = x_start. Loss: the mean over the inner steps; correct and
  // samples: their sums.
  StepResult compute(uint64_t step) override {
    base_->pull(Flat::params);
    std::span<float> x = base_->params();
    std::memcpy(start_.data(), x.data(), x.size_bytes());
    StepResult sum;
    double loss = 0;
    ended_ = false;
    for (uint64_t inner = step - h_ + 1; inner <= step; ++inner) {
      const StepResult r = base_->compute(inner);
      loss += r.loss, sum.correct += r.correct, sum.samples += r.samples;
      ended_ = ended_ || base_->epoch_ended();
      base_->pull(Flat::grads);
      rule_.set_progress(inner_progress(inner));
      rule_.step(x, base_->grads(), state_, inner);
      base_->push(Flat::params);
    }
    std::span<float> g = base_->grads();
    for (size_t i = 0; i < x.size(); ++i) g[i] = start_[i] - x[i];  // x_H = x_start - sum of inner updates
    std::memcpy(x.data(), start_.data(), x.size_bytes());
    base_->push(Flat::grads);
    base_->push(Flat::params);
    sum.loss = static_cast<float>(loss / static_cast<double>(h_));
    return sum;
  }

  size_t probe(int k, int K, int batch, size_t max_batches, const ProbeVisit& visit) override {
    return base_->probe(k, K, batch, max_batches, visit);
  }

  std::string save_state() const override {
    const std::string base = base_->save_state();
    const uint64_t n = base.size();
    std::string out(kMagic, sizeof kMagic);
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out += base;
    for (std::span<const float> a : {m(), v()}) out.append(reinterpret_cast<const char*>(a.data()), a.size_bytes());
    return out;
  }

  void restore_state(const std::string& bytes) override {
    const std::string base = base_part(bytes);
    base_->restore_state(base);
    const char* p = bytes.data() + sizeof kMagic + sizeof(uint64_t) + base.size();
    for (std::span<float> a : {state_.m(), state_.v()}) std::memcpy(a.data(), p, a.size_bytes()), p += a.size_bytes();
  }
  // A new worker: the base problem's shared position; the inner state stays zero.
  void join_state(const std::string& peer) override { base_->join_state(base_part(peer)); }
  void set_budget_progress(double p) override {
    budget_ = p;
    base_->set_budget_progress(p);
  }

 private:
  // The base problem's state inside a blob of save_state(), after checking the blob's layout.
  std::string base_part(const std::string& bytes) const {
    const size_t head = sizeof kMagic + sizeof(uint64_t);
    if (bytes.size() < head || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
      throw std::runtime_error("the checkpoint's worker state has no inner optimizer state: it was written without "
                               "aggregation.local_steps > 1 (resume with the local_steps it was written with)");
    uint64_t n = 0;
    std::memcpy(&n, bytes.data() + sizeof kMagic, sizeof n);
    const size_t want = head + n + (m().size() + v().size()) * sizeof(float);
    if (n > bytes.size() || bytes.size() != want)
      throw std::runtime_error(fmt::format("the checkpoint's inner optimizer state holds {} bytes, {} expected for "
                                           "inner.name = {} and d = {}", bytes.size(), want, rule_.adam() ? "adamw" : "sgd",
                                           start_.size()));
    return bytes.substr(head, n);
  }

  // The inner schedule's progress at inner step `inner`: budget_progress
  // at that step (its share of run.steps), or the budget's at the last round
  // when further (a time budget; a round late, as the server's clock reaches
  // the workers with its RESULT). Without a time budget the first is the larger.
  double inner_progress(uint64_t inner) const { return std::max(budget_progress(run_, inner, 0.0), budget_); }

  std::span<const float> m() const { return state_.m(); }
  std::span<const float> v() const { return state_.v(); }

  std::unique_ptr<Problem> base_;
  uint64_t h_;
  RunConfig run_;           // run.steps (inner steps): the inner schedule's budget
  DenseOptimizer rule_;     // inner.*: SGD or AdamW
  mutable OptimizerState state_;  // the inner optimizer's m (and v), the worker's own (mutable: m()/v() give spans)
  AlignedBuffer<float> start_;  // x_start (d,)
  bool ended_ = false;      // an epoch ended in the last compute()'s inner steps
  double budget_ = 0;       // set_budget_progress: the budget's fraction at the last round
};

}  // namespace

std::unique_ptr<Problem> with_local_steps(const Config& cfg, std::unique_ptr<Problem> base) {
  if (round_steps(cfg) == 1) return base;
  return std::make_unique<LocalSteps>(cfg, std::move(base));
}

}  // namespace signvote::worker
