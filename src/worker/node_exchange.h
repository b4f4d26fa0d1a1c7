// The hierarchy (cluster.hierarchy: node; the authors' poster) as a wrapper
// around any exchange (worker/exchange.h). The node's workers average g
// before packing (the round asks node_average of the StepEngine); then only
// the node leader (local index 0, a voter) sends its parts through the inner
// exchange. Each part's result is broadcast to the node as it arrives:
//
//   leader:    p = inner.wait_next()  --bcast Verdict{p, progress, stop,
//              error}--> followers;  --bcast result_bits(p)--> followers
//   follower:  the same two broadcasts, into its own words
//
// An error the leader meets (a RESULT that stops the run) travels in the
// Verdict, so every worker of the node throws the same RoundError and nobody
// waits in a broadcast the leader will not make.
#pragma once

#include "comm/topology.h"
#include "worker/exchange.h"

#include <cstdint>
#include <vector>

namespace signvote::worker {

class NodeExchange final : public Exchange {
 public:
  // `inner` exists on every worker but is used by the node leader alone.
  NodeExchange(const comm::Topology& topo, Exchange& inner);
  size_t parts() const override { return inner_.parts(); }
  const comm::Range& part(size_t p) const override { return inner_.part(p); }
  uint32_t* out_bits(size_t p) override { return inner_.out_bits(p); }
  const uint32_t* result_bits(size_t p) const override;
  void begin(uint64_t step) override;
  void post(uint64_t step, size_t p, const WorkerReport& r) override;
  bool posted(size_t p) const override { return posted_[p] != 0; }
  size_t wait_next() override;  // collective over the node
  bool sends() const override { return leader_; }
  double progress(size_t p) const override { return progress_[p]; }
  double elapsed_s() const override { return elapsed_s_; }
  bool stop_requested() const override { return stop_; }
  // A failure anywhere in the node, or weights that differ inside it, goes
  // into r (the leader's report: the server then stops the run naming it).
  // Collective over the node.
  void agree(WorkerReport& r) const;

 private:
  const comm::Topology& topo_;
  Exchange& inner_;
  bool leader_;
  std::vector<std::vector<uint32_t>> words_;  // followers: each part's packed majority
  std::vector<double> progress_;
  std::vector<char> posted_;
  double elapsed_s_ = 0;
  bool stop_ = false;
};

}  // namespace signvote::worker
