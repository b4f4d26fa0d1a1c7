// The round strategies (rounds.h).
#include "worker/rounds.h"

#include "comm/mpi_check.h"
#include "worker/alltoall_vote.h"
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
  if (o.name == "lion") return {static_cast<float>(o.beta1), static_cast<float>(o.beta2), true};
  return {o.name == "signsgd" ? 0.f : static_cast<float>(o.momentum), 0.f, false};
}

class RoundBase : public Round {
 public:
  explicit RoundBase(const RoundParts& p) : p_(p), rule_(sign_rule(p.cfg.optimizer)) {}

 protected:
  // One round trip with the server; its wall time is this step's t_comm.
  void exchange(uint64_t step) {
    const auto t0 = Clock::now();
    p_.client.post(step, p_.report);
    p_.client.wait();
    p_.report.t_comm = since(t0);
  }
  // The sign rule (sign_rule), and this step's learning rate and weight decay.
  const SignRule& rule() const { return rule_; }
  // The schedule at the budget fraction server 0 sent with range s's RESULT.
  float lr(uint64_t step, size_t s = 0) const {
    return static_cast<float>(lr_at(p_.cfg.optimizer, step, p_.client.progress(s)));
  }
  float wd() const { return static_cast<float>(p_.cfg.optimizer.weight_decay); }
  void flag_nan(size_t nan) {
    if (nan && p_.report.status == protocol::ErrorCode::ok)
      p_.report.status = protocol::ErrorCode::nan_gradient, p_.report.err_got = nan;
  }
  RoundParts p_;
  SignRule rule_;
};

// Signum (or Lion, SignRule) packed per shard; vote; x -= lr (s + wd x).
class VoteRound final : public RoundBase {
 public:
  using RoundBase::RoundBase;
  void run(uint64_t step) override {
    auto t0 = Clock::now();
    flag_nan(p_.engine.momentum_pack(p_.client, rule(), p_.invert_signs));
    p_.report.t_pack = since(t0);
    exchange(step);
    t0 = Clock::now();
    p_.engine.apply(p_.client, lr(step), wd());
    p_.report.t_apply = since(t0);
    spdlog::debug("step {} bytes sent {} recv {}", step, p_.client.bytes_sent(), p_.client.bytes_recv());
  }
};

// aggregation.transport: alltoall. The vote among the workers first, then
// the REPORT round trip, which carries any failure (NaN, a failed worker, a
// diverged hash, a header the all-to-all rejected: every worker holds the
// same verdict) to the server; it stops the run naming the rank, or marks
// the last round, before anyone applies. t_comm covers both.
class AlltoallVoteRound final : public RoundBase {
 public:
  explicit AlltoallVoteRound(const RoundParts& p) : RoundBase(p), vote_(p.topo, p.problem.params().size(), p.ops) {}
  void run(uint64_t step) override {
    auto t0 = Clock::now();
    flag_nan(p_.engine.momentum_pack(vote_, rule(), p_.invert_signs));
    p_.report.t_pack = since(t0);
    t0 = Clock::now();
    const protocol::MsgHeader verdict = vote_.exchange(step);
    if (verdict.status != protocol::ErrorCode::ok && p_.report.status == protocol::ErrorCode::ok) {
      p_.report.status = verdict.status;
      p_.report.err_rank = verdict.err_rank;
      p_.report.err_expected = verdict.err_expected;
      p_.report.err_got = verdict.err_got;
    }
    exchange(step);  // the REPORT
    p_.report.t_comm = since(t0);
    t0 = Clock::now();
    p_.engine.apply(vote_, lr(step), wd());
    p_.report.t_apply = since(t0);
    spdlog::debug("step {} bytes sent {} recv {}", step, vote_.bytes_each_way(), vote_.bytes_each_way());
  }

 private:
  AlltoallVote vote_;
};

// aggregation.overlap: the backward pass finishes gradients last layer
// first, so the highest shards are final first. The model's gradient-ready
// hook packs and sends each shard s >= 1 the moment [offset_s, d) is final,
// while the backward pass goes on; shard 0 (server 0, which logs the run)
// goes after the pass with the step's loss and status. Results are applied
// in the order they arrive. t_comm is the EXPOSED communication: the time
// after the pass spent waiting for results.
class OverlapVoteRound final : public RoundBase {
 public:
  using RoundBase::RoundBase;
  void before_compute(uint64_t step) override {
    p_.client.begin(step);  // nothing posted yet, whatever the hook does
    next_ = p_.client.shards() - 1;
    nan_ = 0;
    early_pack_s_ = 0;
    p_.problem.set_grad_ready_hook([this, step](size_t first) {
      while (next_ >= 1 && p_.client.shard(next_).offset >= first) {
        const auto t0 = Clock::now();
        nan_ += p_.engine.momentum_pack_shard(p_.client, next_, rule(), p_.invert_signs);
        p_.client.post_shard(step, next_, p_.report);
        early_pack_s_ += since(t0);
        spdlog::debug("step {}: shard {} sent during the backward pass ([{}, d) final)", step, next_, first);
        --next_;
      }
    });
  }
  void run(uint64_t step) override {
    p_.problem.set_grad_ready_hook({});
    auto t0 = Clock::now();
    for (size_t s = 0; s <= next_; ++s) nan_ += p_.engine.momentum_pack_shard(p_.client, s, rule(), p_.invert_signs);
    flag_nan(nan_);
    p_.report.t_pack = since(t0) + early_pack_s_;
    p_.client.post_rest(step, p_.report);
    float wait = 0, apply = 0;
    for (;;) {
      t0 = Clock::now();
      const size_t s = p_.client.wait_next();
      wait += since(t0);
      if (s == p_.client.shards()) break;
      t0 = Clock::now();
      p_.engine.apply_shard(p_.client, s, lr(step, s), wd());
      apply += since(t0);
    }
    p_.report.t_comm = wait;
    p_.report.t_apply = apply;
  }

 private:
  size_t next_ = 0, nan_ = 0;  // the highest shard not yet sent; NaNs met so far
  float early_pack_s_ = 0;     // packing done inside the backward pass
};

// The hierarchical vote (cluster.hierarchy: node; the authors' poster): the
// node's workers average g (fp32: MPI on the node's communicator, NCCL on
// cuda workers; StepEngine::node_average), the node leader alone runs Signum on
// the average and votes, and hands the RESULTs to the others, who apply the
// same update. Local failures and weight hashes are agreed in the node
// first, so the leader reports them for the node.
class NodeVoteRound final : public RoundBase {
 public:
  using RoundBase::RoundBase;
  void run(uint64_t step) override {
    const MPI_Comm node = p_.topo.node_comm();
    const bool leader = p_.topo.is_voter();
    auto t0 = Clock::now();
    agree_in_node(node);
    p_.engine.node_average();
    if (leader) flag_nan(p_.engine.momentum_pack(p_.client, rule(), p_.invert_signs));
    p_.report.t_pack = since(t0);
    t0 = Clock::now();
    if (leader) {
      p_.client.post(step, p_.report);
      try {
        p_.client.wait();
      } catch (const RoundError&) {
        p_.client.share(step, node, true);  // the node learns the error too
        throw;
      }
    }
    p_.client.share(step, node, leader);
    p_.report.t_comm = since(t0);
    t0 = Clock::now();
    p_.engine.apply(p_.client, lr(step), wd());
    p_.report.t_apply = since(t0);
  }

 private:
  // A failure anywhere in the node, or weights that differ inside it, goes
  // into the leader's report (the server then stops the run naming it).
  void agree_in_node(MPI_Comm node) {
    int status = static_cast<int>(p_.report.status);
    SV_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &status, 1, MPI_INT, MPI_MAX, node));
    uint64_t lo = p_.report.weight_hash, hi = lo;
    SV_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, node));
    SV_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, node));
    if (status != 0 && p_.report.status == protocol::ErrorCode::ok)
      p_.report.status = static_cast<protocol::ErrorCode>(status);
    if (lo != hi && p_.report.status == protocol::ErrorCode::ok)
      p_.report.status = protocol::ErrorCode::hash_mismatch, p_.report.err_got = lo ^ hi;
  }
};

// Dense methods through the server: encode, aggregate there, SGD/Adam here
// (cuda workers stage g and x through their host mirrors).
// With several shards each is encoded and aggregated on its own server; the
// fp32 results are gathered into one gradient for the update.
class DenseRound final : public RoundBase {
 public:
  explicit DenseRound(const RoundParts& p) : RoundBase(p), agg_(p.client.shards() > 1 ? p.problem.params().size() : 0) {}
  void run(uint64_t step) override {
    auto t0 = Clock::now();
    p_.problem.pull(Flat::grads);
    const auto g = p_.problem.grads();
    size_t nan = 0;
    for (size_t s = 0; s < p_.client.shards(); ++s) {
      const auto& sh = p_.client.shard(s);
      nan += p_.encoder.encode(s, g.subspan(sh.offset, sh.length), step, p_.client.out_bits(s));
    }
    flag_nan(nan);
    p_.report.t_pack = since(t0);
    exchange(step);
    t0 = Clock::now();
    p_.problem.pull(Flat::params);
    auto x = p_.problem.params();
    p_.dense.set_progress(p_.client.progress());
    const float* result = p_.client.result_floats(0);
    if (p_.client.shards() > 1) {
      for (size_t s = 0; s < p_.client.shards(); ++s) {
        const auto& sh = p_.client.shard(s);
        std::copy_n(p_.client.result_floats(s), sh.length, agg_.data() + sh.offset);
      }
      result = agg_.data();
    }
    p_.dense.step(x, {result, x.size()}, step);
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
    p_.client.post(step, p_.report);
    p_.client.wait();
    p_.engine.allreduce_grads();
    p_.report.t_comm = since(t0);
    t0 = Clock::now();
    p_.dense.set_progress(p_.client.progress());
    p_.engine.dense_step(p_.dense, step, 1.f / static_cast<float>(p_.topo.workers()));
    p_.report.t_apply = since(t0);
    const size_t bytes = 4 * p_.problem.params().size();
    spdlog::debug("step {} bytes sent {} recv {}", step, bytes, bytes);
  }
};

}  // namespace

std::unique_ptr<Round> make_round(RoundKind kind, const RoundParts& parts) {
  switch (kind) {
    case RoundKind::vote:
      if (parts.topo.hierarchical()) return std::make_unique<NodeVoteRound>(parts);
      if (parts.cfg.aggregation.overlap) return std::make_unique<OverlapVoteRound>(parts);
      if (parts.cfg.aggregation.transport == "alltoall") return std::make_unique<AlltoallVoteRound>(parts);
      return std::make_unique<VoteRound>(parts);
    case RoundKind::dense: return std::make_unique<DenseRound>(parts);
    case RoundKind::allreduce: return std::make_unique<AllreduceRound>(parts);
  }
  throw std::logic_error("make_round: unknown round kind");
}

}  // namespace signvote::worker
