// Worker side of one round (include/signvote/protocol.h): fill the outgoing
// VOTE payload of each shard, post(), then wait() for the RESULTs.
// With dim = 0 it sends header-only REPORTs (all-reduce mode).
#pragma once

#include "comm/topology.h"
#include "comm/transport.h"
#include "comm/wire.h"
#include "worker/sign_slots.h"

#include <mpi.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace signvote::worker {

// The server stopped the round; what() is the one-line reason naming the
// rank, `code` and `offender` the RESULT's status and err_rank (a local
// failure: worker_failed and this rank).
struct RoundError : std::runtime_error {
  explicit RoundError(const std::string& what, protocol::ErrorCode code = protocol::ErrorCode::worker_failed,
                      int offender = -1)
      : std::runtime_error(what), code(code), offender(offender) {}
  protocol::ErrorCode code;
  int offender;
};

// Per-step figures a worker reports in its headers (seconds).
struct WorkerReport {
  float loss = 0, t_compute = 0, t_pack = 0, t_comm = 0, t_apply = 0;
  uint32_t correct = 0, samples = 0;
  uint64_t weight_hash = 0;  // non-zero on hash steps
  protocol::ErrorCode status = protocol::ErrorCode::ok;  // worker-side failure
  uint64_t err_got = 0;      // e.g. the NaN count
  uint64_t err_expected = 0;
  uint32_t err_rank = 0;     // the offender when another rank is at fault (0: the reporter)
};

class VoteClient final : public SignSlots {
 public:
  // dim = 0: header-only REPORT rounds. `format` sizes the payloads. The
  // "shards" of this client are comm::plan_ranges(dim, S, bucket_coords):
  // every server shard's buckets, each a message of its own.
  VoteClient(const comm::Topology& topo, size_t dim, const comm::RoundFormat& format = comm::RoundFormat::sign_bits(),
             size_t bucket_coords = 0);
  size_t shards() const override { return shards_.size(); }
  const comm::Shard& shard(size_t s) const override { return shards_[s]; }
  // Outgoing packed signs of shard s: payload_words(shard(s).length) words.
  uint32_t* out_bits(size_t s) override { return out_[s].payload(); }
  float* out_floats(size_t s) { return reinterpret_cast<float*>(out_[s].payload()); }
  // Starts round `step` (nothing posted yet); post() calls it.
  void begin(uint64_t step);
  // Posts the VOTE/REPORT messages and the RESULT receives of `step`.
  void post(uint64_t step, const WorkerReport& report);
  // The same for shard s alone (overlap: shards go as their gradients are
  // final); post_rest() posts the shards not yet posted this step.
  void post_shard(uint64_t step, size_t s, const WorkerReport& report);
  void post_rest(uint64_t step, const WorkerReport& report);
  bool posted(size_t s) const { return posted_[s] != 0; }
  // faults.wrong_step_* / wrong_field: the next message of shard s claims
  // step + 1000, the next protocol version, or one coordinate more.
  void inject_wrong_header(size_t s, const std::string& field) { wrong_shard_ = s, wrong_field_ = field; }
  // Completes the round; throws RoundError if any RESULT carries an error.
  void wait();
  // Overlap: waits for the next RESULT to arrive, checks it and returns its
  // shard; after the last one completes the sends and returns shards().
  size_t wait_next();
  // Hierarchy: the node leader (root, after wait()) hands its RESULTs to the
  // node's other workers, which check them as wait() does. Collective on node.
  void share(uint64_t step, MPI_Comm node, bool root);
  // The packed majority of shard s (valid after wait()).
  const uint32_t* result_bits(size_t s) const override { return in_[s].payload(); }
  const float* result_floats(size_t s) const { return reinterpret_cast<const float*>(in_[s].payload()); }
  // The server marked this round the last one (time limit).
  bool stop_requested() const { return (in_[0].header().flags & protocol::kFlagStop) != 0; }
  // This client's messages say worker_left from now on (Worker::leave): only
  // then is a RESULT "every worker left" a clean end rather than an error.
  void set_leaving() { leaving_ = true; }
  // The server ended the run because every worker left (protocol.h, "Leaving").
  bool everyone_left() const {
    return in_[0].header().status == protocol::ErrorCode::worker_left && in_[0].header().err_rank == protocol::kEveryone;
  }
  // Server 0's budget clock for this round, as every RESULT carries it: the
  // fraction of the budget (the lr schedule's argument) and the seconds.
  double progress(size_t s = 0) const { return in_[s].header().progress; }
  double elapsed_s() const { return in_[0].header().elapsed_s; }
  uint64_t bytes_sent() const { return bytes_sent_; }  // this round, all shards
  uint64_t bytes_recv() const { return bytes_recv_; }

 private:
  void check_results() const;
  void check_result(size_t s) const;
  const comm::Topology& topo_;
  comm::Transport net_;
  bool report_only_;
  std::vector<comm::Shard> shards_;
  std::vector<comm::Message> out_, in_;
  std::vector<size_t> down_words_;
  std::vector<int> counts_;  // bytes of each RESULT received
  std::vector<char> posted_;  // shards posted in round step_
  std::vector<MPI_Request> reqs_;
  uint64_t step_ = 0, bytes_sent_ = 0, bytes_recv_ = 0;
  size_t wrong_shard_ = SIZE_MAX;
  std::string wrong_field_;
  bool leaving_ = false;
};

}  // namespace signvote::worker
