// The round strategies (rounds.h).
#include "worker/rounds.h"

#include "worker/alltoall_vote.h"
#include "worker/node_exchange.h"
#include "util/timer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace signvote::worker {
namespace {

using util::Clock;
float since(Clock::time_point t0) { return static_cast<float>(util::seconds_since(t0)); }

// The sign rule optimizer.name asks for (Signum's beta, 0 for signSGD;
// Lion's beta1/beta2), resolved once per run.
SignRule sign_rule(const OptimizerConfig& o) {
  if (o.kind == OptimizerName::lion) return {static_cast<float>(o.beta1), static_cast<float>(o.beta2), true};
  return {o.kind == OptimizerName::signsgd ? 0.f : static_cast<float>(o.momentum), 0.f, false};
}

class RoundBase : public Round {
 public:
  explicit RoundBase(const RoundParts& p) : p_(p), rule_(sign_rule(p.cfg.optimizer)) {}
  const Exchange& exchange() const override { return p_.client; }

 protected:
  // The sign rule (sign_rule), and this step's learning rate and weight decay.
  const SignRule& rule() const { return rule_; }
  // The schedule at the budget fraction server 0 sent with a RESULT.
  float lr(uint64_t step, double progress) const {
    return static_cast<float>(lr_at(p_.cfg.optimizer, step, progress));
  }
  float wd() const { return static_cast<float>(p_.cfg.optimizer.weight_decay); }
  void flag_nan(size_t nan) {
    if (nan && p_.report.status == protocol::ErrorCode::ok)
      p_.report.status = protocol::ErrorCode::nan_gradient, p_.report.err_got = nan;
  }
  RoundParts p_;
  SignRule rule_;
};

// The vote's exchange stack (exchange.h): the server shards or the
// all-to-all, inside NodeExchange with the hierarchy.
class SignExchange {
 public:
  explicit SignExchange(const RoundParts& p) {
    top_ = &p.client;
    if (p.cfg.aggregation.transport_kind == VoteTransport::alltoall) {
      alltoall_ = std::make_unique<AlltoallVote>(p.topo, p.problem.params().size(), p.ops, p.client, round_steps(p.cfg));
      top_ = alltoall_.get();
    }
    if (p.topo.hierarchical()) {
      node_ = std::make_unique<NodeExchange>(p.topo, *top_);
      top_ = node_.get();
    }
  }
  Exchange& top() const { return *top_; }
  NodeExchange* node() const { return node_.get(); }

 private:
  std::unique_ptr<AlltoallVote> alltoall_;  // on every worker: a follower's parts are its leader's
  std::unique_ptr<NodeExchange> node_;
  Exchange* top_;
};

// Signum (or Lion, SignRule) packed per part; the exchange; x -= lr (s + wd x).
// Hierarchy: every part is first averaged in the node (StepEngine), and the
// node's failures and hashes are agreed before the last part goes; only the
// leader packs and sends (ex.sends()).
//
// aggregation.overlap: the backward pass finishes gradients last layer first,
// so the highest parts are final first. The model's gradient-ready hook
// averages, packs and sends each part p >= 1 the moment [offset_p, d) is
// final, while the backward pass goes on; part 0 (server 0, which logs the
// run) goes after the pass with the step's loss and status. Results are
// applied in the order they arrive. Every rank of a node meets the node's
// collectives in the same order (parts last to first, then the agreement),
// whether its hook or run() makes them, even when its backward pass failed.
// t_comm is then the EXPOSED communication: the time after the pass spent
// waiting for results.
class SignRound final : public RoundBase {
 public:
  explicit SignRound(const RoundParts& p)
      : RoundBase(p), stack_(p), ex_(stack_.top()), node_(stack_.node()), overlap_(p.cfg.aggregation.overlap) {}
  const Exchange& exchange() const override { return ex_; }

  void before_compute(uint64_t step) override {
    ex_.begin(step);  // nothing posted yet, whatever the hook does
    keep_momentum();
    next_ = ex_.parts() - 1;
    nan_ = 0;
    early_pack_s_ = 0;
    if (!overlap_) return;
    p_.problem.set_grad_ready_hook([this, step](size_t first) {
      while (next_ >= 1 && ex_.part(next_).offset >= first) {
        const auto t0 = Clock::now();
        prepare_part(next_);
        ex_.post(step, next_, p_.report);
        early_pack_s_ += since(t0);
        spdlog::debug("step {}: part {} sent during the backward pass ([{}, d) final)", step, next_, first);
        --next_;
      }
    });
  }

  void run(uint64_t step) override {
    if (overlap_) p_.problem.set_grad_ready_hook({});
    auto t0 = Clock::now();
    pack_rest(step);
    after_pack();
    p_.report.t_pack = since(t0) + early_pack_s_;
    t0 = Clock::now();
    ex_.post_rest(step, p_.report);
    if (overlap_) return wait_and_apply_each(step, since(t0));
    ex_.wait_all();
    p_.report.t_comm = since(t0);
    t0 = Clock::now();
    if (ex_.skip_requested()) p_.engine.restore_momentum(all_);  // every worker drops the round
    else p_.engine.apply(ex_, ranges(step, ex_.progress(0), 0));
    p_.report.t_apply = since(t0);
  }

 private:
  bool groups() const { return p_.groups && p_.groups->active(); }
  bool skips() const { return p_.cfg.optimizer.nonfinite_kind == NonFinite::skip; }
  // Before any pack: the momentum a pack must not change, kept aside (the
  // tensors without a gradient; with nonfinite: skip, all of it), and the
  // vote's tail, which every part carries however early it goes.
  void keep_momentum() {
    if (skips()) p_.engine.save_momentum(all_);
    else if (groups()) p_.engine.save_momentum(p_.groups->absent());
    if (groups()) ex_.set_tail(p_.groups->tail_words());
  }
  // The absent tensors' momentum back, and a non-finite gradient reported:
  // as an error, or (skip) as a flag for the servers.
  void after_pack() {
    if (groups()) p_.engine.restore_momentum(p_.groups->absent());
    p_.report.flags = skips() && nan_ ? protocol::kFlagNonFinite : 0;
    if (!skips()) flag_nan(nan_);
  }
  // What part p applies: every coordinate with one lr and wd, or the
  // groups' ranges of the tensors some worker voted on.
  std::vector<ApplyRange> ranges(uint64_t step, double progress, size_t p) const {
    if (!groups()) return {ApplyRange{0, p_.problem.params().size(), lr(step, progress), wd()}};
    return p_.groups->apply_ranges(ex_.voted_bits(p), step, progress);
  }

  // Part s, once its gradients are final: the node average, then the sign
  // rule into its outgoing words (the node leader's, or every voter's).
  void prepare_part(size_t s) {
    if (node_) p_.engine.node_average(ex_.part(s).offset, ex_.part(s).length);
    if (ex_.sends()) nan_ += p_.engine.momentum_pack_part(ex_, s, rule(), p_.invert_signs);
  }
  // The parts the hook did not send. Whole schedule: one node average and
  // one fused pack over every part. Overlap: each part >= 1 packed and
  // posted in turn, last first, so the servers tally part s while this
  // worker packs s-1 (a PyTorch worker has no hook: all its parts go so);
  // part 0 goes after them with the step's status. The node's collectives
  // keep their order: averages last part first, then the agreement.
  void pack_rest(uint64_t step) {
    if (!overlap_) {
      if (node_) node_->agree(p_.report), p_.engine.node_average();
      if (ex_.sends()) nan_ += p_.engine.momentum_pack(ex_, rule(), p_.invert_signs);
      return;
    }
    for (; next_ >= 1; --next_) {
      prepare_part(next_);
      ex_.post(step, next_, p_.report);
    }
    if (node_) p_.engine.node_average(ex_.part(0).offset, ex_.part(0).length), node_->agree(p_.report);
    if (ex_.sends()) nan_ += p_.engine.momentum_pack_part(ex_, 0, rule(), p_.invert_signs);
  }
  void wait_and_apply_each(uint64_t step, float posting_s) {
    float wait = posting_s, apply = 0;
    for (;;) {
      auto t0 = Clock::now();
      const size_t s = ex_.wait_next();
      wait += since(t0);
      if (s == ex_.parts()) break;
      t0 = Clock::now();
      p_.engine.apply_part(ex_, s, ranges(step, ex_.progress(s), s));
      apply += since(t0);
    }
    p_.report.t_comm = wait;
    p_.report.t_apply = apply;
  }

  SignExchange stack_;
  Exchange& ex_;
  NodeExchange* node_;
  bool overlap_;
  std::vector<Extent> all_{Extent{0, p_.problem.params().size()}};  // [0, d)
  size_t next_ = 0, nan_ = 0;  // the highest part not yet sent; NaNs met so far
  float early_pack_s_ = 0;     // packing done inside the backward pass
};

// Dense methods through the server: encode, aggregate there, SGD/Adam here
// (cuda workers stage g and x through their host mirrors).
// With several shards each is encoded and aggregated on its own server; the
// fp32 results are gathered into one gradient for the update.
class DenseRound final : public RoundBase {
 public:
  explicit DenseRound(const RoundParts& p) : RoundBase(p), agg_(p.client.parts() > 1 ? p.problem.params().size() : 0) {}
  void run(uint64_t step) override {
    auto t0 = Clock::now();
    p_.problem.pull(Flat::grads);
    const auto g = p_.problem.grads();
    size_t nan = 0;
    for (size_t s = 0; s < p_.client.parts(); ++s) {
      const auto& sh = p_.client.part(s);
      nan += p_.encoder.encode(s, g.subspan(sh.offset, sh.length), step, p_.client.out_bits(s));
    }
    flag_nan(nan);
    p_.report.t_pack = since(t0);
    t0 = Clock::now();
    p_.client.round_trip(step, p_.report);
    p_.report.t_comm = since(t0);
    t0 = Clock::now();
    p_.problem.pull(Flat::params);
    auto x = p_.problem.params();
    p_.dense.set_progress(p_.client.progress(0));
    const float* result = p_.client.result_floats(0);
    if (p_.client.parts() > 1) {
      for (size_t s = 0; s < p_.client.parts(); ++s) {
        const auto& sh = p_.client.part(s);
        std::copy_n(p_.client.result_floats(s), sh.length, agg_.data() + sh.offset);
      }
      result = agg_.data();
    }
    p_.dense.step(x, {result, x.size()}, p_.state, step);
    p_.problem.push(Flat::params);
    p_.report.t_apply = since(t0);
  }

 private:
  AlignedBuffer<float> agg_;  // the shards' results side by side (d,)
};

// Baseline: a REPORT to the server first, which validates every worker
// before anyone enters the collective; then the fp32 sum and SGD/Adam on g/W.
class AllreduceRound final : public RoundBase {
 public:
  using RoundBase::RoundBase;
  void run(uint64_t step) override {
    flag_nan(p_.engine.count_nan_grads());
    p_.report.t_pack = 0;
    auto t0 = Clock::now();
    p_.client.round_trip(step, p_.report);
    p_.engine.allreduce_grads();
    p_.report.t_comm = since(t0);
    t0 = Clock::now();
    p_.dense.set_progress(p_.client.progress(0));
    p_.engine.dense_step(p_.dense, step, 1.f / static_cast<float>(p_.topo.workers()));
    p_.report.t_apply = since(t0);
    const size_t bytes = 4 * p_.problem.params().size();
    spdlog::debug("step {} bytes sent {} recv {}", step, bytes, bytes);
  }
};

}  // namespace

std::unique_ptr<Round> make_round(RoundKind kind, const RoundParts& parts) {
  switch (kind) {
    case RoundKind::vote: return std::make_unique<SignRound>(parts);
    case RoundKind::dense: return std::make_unique<DenseRound>(parts);
    case RoundKind::allreduce: return std::make_unique<AllreduceRound>(parts);
  }
  throw std::logic_error("make_round: unknown round kind");
}

}  // namespace signvote::worker
