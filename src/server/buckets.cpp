#include "server/buckets.h"

namespace signvote::server {

BucketRounds::BucketRounds(const comm::Topology& topo, size_t dim, size_t bucket_coords,
                           const comm::RoundFormat& format, const std::function<AggregateFn(size_t)>& aggregate_for,
                           DeadlinePolicy deadline)
    : BucketRounds(comm::Peers::of(topo), comm::mpi_transport(), dim, bucket_coords, format, aggregate_for, deadline) {}

BucketRounds::BucketRounds(const comm::Peers& peers, comm::Transport& net, size_t dim, size_t bucket_coords,
                           const comm::RoundFormat& format, const std::function<AggregateFn(size_t)>& aggregate_for,
                           DeadlinePolicy deadline) {
  if (dim == 0) {
    servers_.push_back(std::make_unique<ShardServer>(peers, net, size_t{0}, format, aggregate_for(0), deadline));
    return;
  }
  for (const comm::Range& r : comm::plan_ranges(dim, peers.servers, bucket_coords))
    if (r.server == peers.world_rank)  // a server's shard index is its world rank
      servers_.push_back(std::make_unique<ShardServer>(peers, net, r, format, aggregate_for(r.length), deadline));
}

RoundSummary BucketRounds::round(uint64_t step, const RoundMark& mark) {
  RoundSummary first;
  bool left = false;  // a worker leaves by every bucket at once
  double t_tally = 0;
  uint64_t in = 0, out = 0;
  for (size_t b = servers_.size(); b-- > 0;) {
    RoundSummary s;
    try {
      s = servers_[b]->round(step, mark);
    } catch (const RoundError&) {
      // The workers wait for these too; they hear the same cause.
      for (size_t rest = b; rest-- > 0;) servers_[rest]->abort(step, &servers_[b]->last_error());
      throw;
    }
    t_tally += s.t_tally, in += s.bytes_recv_per_worker, out += s.bytes_sent_per_worker;
    if (b == 0) first = s;
    left = left || s.left;
  }
  first.t_tally = t_tally;
  first.left = left;
  first.bytes_recv_per_worker = in;
  first.bytes_sent_per_worker = out;
  return first;
}

void BucketRounds::abort(uint64_t step) {
  for (size_t b = servers_.size(); b-- > 0;) servers_[b]->abort(step);
}

void BucketRounds::finish(uint64_t last_step) {
  for (auto& s : servers_) s->finish(last_step);
}

}  // namespace signvote::server
