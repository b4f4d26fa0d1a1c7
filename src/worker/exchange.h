// The exchange under a worker's round: it moves the round's packed words (or
// fp32 / QSGD payloads) between this worker and whoever aggregates them, in
// parts. A part is a coordinate range [offset, offset + length) of the flat
// parameter vector, in order, covering [0, d), each starting on a
// 512-coordinate bound (comm::plan_ranges).
//
//   begin(step) -> fill out_bits(p) -> post(p) ... post_rest()
//               -> wait_next() = p ... result_bits(p) ... wait_next() = parts()
//
// Implementations (make_round picks and stacks them, worker/rounds.cpp):
//
//   ServerExchange         server shards: part p = one server shard's bucket, a
//                      VOTE to its server rank and a RESULT back (protocol.h)
//   AlltoallVote       the workers tally chunk p among themselves (one
//                      all-to-all + all-gather), then a header-only REPORT
//                      to the server carries the verdict
//   NodeExchange       the hierarchy, around any of the above: the node
//                      leader runs the inner exchange, each part's result is
//                      broadcast to the node as it arrives
//
// Overlap and buckets are not exchanges: they are how the round schedules
// its parts (worker/rounds.cpp), so they work over every exchange.
#pragma once

#include "comm/round_error.h"
#include "comm/topology.h"
#include "signvote/protocol.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace signvote::worker {

// Per-step figures a worker reports in its headers (seconds).
struct WorkerReport {
  float loss = 0, t_compute = 0, t_pack = 0, t_comm = 0, t_apply = 0;
  uint32_t correct = 0, samples = 0;
  uint64_t weight_hash = 0;  // non-zero on hash steps
  protocol::ErrorCode status = protocol::ErrorCode::ok;  // worker-side failure
  uint64_t err_got = 0;      // e.g. the NaN count
  uint64_t err_expected = 0;
  uint32_t err_rank = 0;     // the offender when another rank is at fault (0: the reporter)
  uint8_t flags = 0;         // protocol::kFlagNonFinite (optimizer.nonfinite: skip)
};

// Where a round's packed signs live, per part: the outgoing words a
// StepEngine packs into and the voted words it applies.
class SignSlots {
 public:
  virtual ~SignSlots() = default;
  virtual size_t parts() const = 0;
  virtual const comm::Range& part(size_t p) const = 0;
  // Part p's outgoing packed signs: payload_words(part(p).length) words.
  virtual uint32_t* out_bits(size_t p) = 0;
  // Part p's packed majority (valid once wait_next() returned p).
  virtual const uint32_t* result_bits(size_t p) const = 0;
};

class Exchange : public SignSlots {
 public:
  // A new round: nothing posted yet.
  virtual void begin(uint64_t step) = 0;
  // Sends part p of round `step` (its words are final); `r` goes in its header.
  virtual void post(uint64_t step, size_t p, const WorkerReport& r) = 0;
  virtual bool posted(size_t p) const = 0;
  // Sends every part not yet posted this round.
  void post_rest(uint64_t step, const WorkerReport& r) {
    for (size_t p = 0; p < parts(); ++p)
      if (!posted(p)) post(step, p, r);
  }
  // Waits for the next part whose result arrived, checks it and returns it;
  // parts() once every part is in (and every send done). Throws RoundError
  // when a result carries an error.
  virtual size_t wait_next() = 0;
  void wait_all() {
    while (wait_next() != parts()) {
    }
  }
  // Whether this rank's outgoing words are sent at all (false: a hierarchy
  // follower, whose node leader votes for the node).
  virtual bool sends() const { return true; }
  // Server 0's budget clock as part p's result carried it: the fraction of
  // the budget (the lr schedule's argument) and the seconds.
  virtual double progress(size_t p) const = 0;
  virtual double elapsed_s() const = 0;
  // The server marked this round the last one (time limit).
  virtual bool stop_requested() const = 0;
  // The server told every worker to drop this round (a non-finite
  // gradient somewhere, optimizer.nonfinite: skip).
  virtual bool skip_requested() const { return false; }
  // With a vote tail (model.tensors): the words every part's VOTE carries
  // after its signs (ParamGroups::tail_words), and part p's voted bits
  // from its RESULT (nullptr without a tail).
  virtual void set_tail(std::span<const uint32_t> words) {}
  virtual const uint32_t* voted_bits(size_t p) const { return nullptr; }
};

}  // namespace signvote::worker
