// One server rank's part of a round: the buckets of its shard
// (aggregation.bucket_bytes; comm::plan_ranges), a ShardServer each.
// Buckets are served last one first: the order in which the backward pass
// finishes them and an overlapping worker sends them, so the server tallies
// and replies to bucket b while the workers are still computing b-1.
#pragma once

#include "server/shard_server.h"

#include <functional>
#include <memory>
#include <vector>

namespace signvote::server {

class BucketRounds {
 public:
  // aggregate_for(length) builds the aggregation for a bucket of `length`
  // coordinates. dim = 0: one report-only ShardServer.
  BucketRounds(const comm::Topology& topo, size_t dim, size_t bucket_coords, const comm::RoundFormat& format,
               const std::function<AggregateFn(size_t)>& aggregate_for, DeadlinePolicy deadline);
  // The same over any transport (`peers`: ShardServer's).
  BucketRounds(const comm::Peers& peers, comm::Transport& net, size_t dim, size_t bucket_coords,
               const comm::RoundFormat& format, const std::function<AggregateFn(size_t)>& aggregate_for,
               DeadlinePolicy deadline);
  // Bucket b's server (in offset order).
  const ShardServer& bucket(size_t b) const { return *servers_[b]; }
  size_t buckets() const { return servers_.size(); }
  // ShardServer::set_tail_rules for every bucket.
  void set_tail_rules(const kernels::SignOps& ops, const std::vector<double>& fixed_lr) {
    for (auto& s : servers_) s->set_tail_rules(ops, fixed_lr);
  }
  // ShardServer::set_round_steps for every bucket.
  void set_round_steps(uint64_t h) {
    for (auto& s : servers_) s->set_round_steps(h);
  }
  // Every bucket's round. The summary is bucket 0's (the workers' report of
  // the step travels with it last), with every bucket's tally time and bytes.
  // On a failed bucket the buckets not yet served are stopped too (abort),
  // then RoundError is rethrown.
  RoundSummary round(uint64_t step, const RoundMark& mark = {});
  void abort(uint64_t step);
  void finish(uint64_t last_step);

 private:
  std::vector<std::unique_ptr<ShardServer>> servers_;  // in offset order
};

}  // namespace signvote::server
