// The vote without server ranks in the data path (aggregation.transport:
// alltoall; DeepSpeed's compressed all-reduce has this shape), an Exchange
// (worker/exchange.h) whose part j is chunk j of the coordinates,
// comm::split_ranges(d, W)[j], tallied by voter j. W = the voters: every
// worker, or the node leaders under the hierarchy (NodeExchange around it).
// The collective runs once every part is posted, at the first wait_next().
//
//   every slot = 128-byte header + slot_words packed words (the largest
//   chunk's payload_words; shorter chunks leave zero words after theirs)
//
//   1. MPI_Alltoall over the workers: worker i's slot j = VOTE header +
//      its packed signs of chunk j  ->  worker j's receive slot i
//   2. worker j validates the W VOTE headers (magic, version, kind, step,
//      length, offset, byte count) and tallies the W rows of chunk j into
//      the packed majority (ties -> +1, as on a server)
//   3. MPI_Allgather of the RESULT slots: every worker gets every chunk's
//      majority and validates the W RESULT headers
//
//   Per worker link: (W-1)/W d/8 bytes out and in per phase, like one
//   server shard beside each worker, with W ranks instead of 2W.
//   A header that fails validation in 2. makes worker j's RESULT an error
//   naming the sender (or worker j itself when most senders disagree with
//   it); the all-gather hands it to everyone, so every worker returns the
//   same verdict and reports it to the server, which stops the run naming
//   the rank. Nobody hangs in a collective and nobody applies the round.
//
//   4. the header-only REPORT round trip to the server (`report`), with the
//      verdict in its header; its RESULT says stop / go on / the budget
//      fraction, as for every other exchange.
#pragma once

#include "comm/topology.h"
#include "signvote/aligned_buffer.h"
#include "signvote/protocol.h"
#include "signvote/sign_kernels.h"
#include "worker/exchange.h"
#include "worker/server_exchange.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace signvote::worker {

class AlltoallVote final : public Exchange {
 public:
  // Voters only; d = parameters, tallied with `ops` (aggregation.isa);
  // `report`: the header-only (dim = 0) server exchange.
  // round_steps: H (aggregation.local_steps): the ties of step t's tally are tie_word(t / H), as the servers'
  AlltoallVote(const comm::Topology& topo, size_t d, const kernels::SignOps& ops, ServerExchange& report,
               uint64_t round_steps = 1);
  size_t parts() const override { return chunks_.size(); }
  const comm::Range& part(size_t j) const override { return chunks_[j]; }
  uint32_t* out_bits(size_t j) override { return words(send_, j); }
  const uint32_t* result_bits(size_t j) const override { return words(results_, j); }
  void begin(uint64_t step) override;
  // Marks chunk j ready; the report of the last post goes to the server.
  void post(uint64_t step, size_t j, const WorkerReport& r) override;
  bool posted(size_t j) const override { return posted_[j] != 0; }
  // The first call runs steps 1-4 (every chunk must be posted); then the
  // chunks in order, then parts(). Throws RoundError when the server stops.
  size_t wait_next() override;
  double progress(size_t) const override { return report_.progress(0); }
  double elapsed_s() const override { return report_.elapsed_s(); }
  bool stop_requested() const override { return report_.stop_requested(); }
  // Bytes this worker sent to / received from the other workers this round.
  uint64_t bytes_each_way() const { return 2 * (chunks_.size() - 1) * slot_bytes_; }

 private:
  uint32_t* words(AlignedBuffer<std::byte>& b, size_t j) const;
  const uint32_t* words(const AlignedBuffer<std::byte>& b, size_t j) const;
  protocol::MsgHeader& header(AlignedBuffer<std::byte>& b, size_t j) const;
  void fill_headers(uint64_t step);
  protocol::MsgHeader tally(uint64_t step);
  protocol::MsgHeader check_results(uint64_t step) const;
  // Steps 1-3 for round `step`; collective over the voters. Returns the
  // verdict: status ok, or the first error with err_rank the offender.
  protocol::MsgHeader vote(uint64_t step);

  const comm::Topology& topo_;
  const kernels::SignOps& ops_;
  ServerExchange& report_;
  WorkerReport mine_report_;  // the last post's, with the verdict added
  std::vector<char> posted_;
  uint64_t step_ = 0;
  size_t next_ = SIZE_MAX;  // the next chunk wait_next() hands out; SIZE_MAX: not voted yet
  std::vector<comm::Range> chunks_;
  uint64_t round_steps_ = 1;  // H: step t is round t / H (the ties)
  size_t slot_words_ = 0, slot_bytes_ = 0;
  AlignedBuffer<std::byte> send_, recv_, mine_, results_;  // W slots each (mine_: one)
};

}  // namespace signvote::worker
