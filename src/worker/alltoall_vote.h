// The vote without server ranks in the data path (aggregation.transport:
// alltoall; DeepSpeed's compressed all-reduce has this shape): worker j
// tallies chunk j of the coordinates, comm::plan_shards(d, W)[j].
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
#pragma once

#include "comm/topology.h"
#include "signvote/aligned_buffer.h"
#include "signvote/protocol.h"
#include "signvote/sign_kernels.h"
#include "worker/sign_slots.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace signvote::worker {

class AlltoallVote final : public SignSlots {
 public:
  // Workers only; d = parameters, tallied with `ops` (aggregation.isa).
  AlltoallVote(const comm::Topology& topo, size_t d, const kernels::SignOps& ops);
  size_t shards() const override { return chunks_.size(); }
  const comm::Shard& shard(size_t j) const override { return chunks_[j]; }
  uint32_t* out_bits(size_t j) override { return words(send_, j); }
  const uint32_t* result_bits(size_t j) const override { return words(results_, j); }
  // Steps 1-3 for round `step`; collective over the workers. Returns the
  // verdict: status ok, or the first error with err_rank the offender.
  protocol::MsgHeader exchange(uint64_t step);
  // Bytes this worker sent to / received from the other workers this round.
  uint64_t bytes_each_way() const { return 2 * (chunks_.size() - 1) * slot_bytes_; }

 private:
  uint32_t* words(AlignedBuffer<std::byte>& b, size_t j) const;
  const uint32_t* words(const AlignedBuffer<std::byte>& b, size_t j) const;
  protocol::MsgHeader& header(AlignedBuffer<std::byte>& b, size_t j) const;
  void fill_headers(uint64_t step);
  protocol::MsgHeader tally(uint64_t step);
  protocol::MsgHeader check_results(uint64_t step) const;

  const comm::Topology& topo_;
  const kernels::SignOps& ops_;
  std::vector<comm::Shard> chunks_;
  size_t slot_words_ = 0, slot_bytes_ = 0;
  AlignedBuffer<std::byte> send_, recv_, mine_, results_;  // W slots each (mine_: one)
};

}  // namespace signvote::worker
