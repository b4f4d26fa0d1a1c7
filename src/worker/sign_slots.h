// Where a round's packed signs live, per coordinate range: the outgoing
// words a StepEngine packs into and the voted words it applies. Two
// transports fill it: VoteClient (server shards) and AlltoallVote (chunks
// tallied by the workers themselves, aggregation.transport: alltoall).
#pragma once

#include "comm/topology.h"

#include <cstddef>
#include <cstdint>

namespace signvote::worker {

class SignSlots {
 public:
  virtual ~SignSlots() = default;
  // Ranges, in order, covering [0, d); each starts on a 512-coordinate bound.
  virtual size_t shards() const = 0;
  virtual const comm::Shard& shard(size_t s) const = 0;
  // Range s's outgoing packed signs: payload_words(shard(s).length) words.
  virtual uint32_t* out_bits(size_t s) = 0;
  // Range s's packed majority (valid once the round's exchange is done).
  virtual const uint32_t* result_bits(size_t s) const = 0;
};

}  // namespace signvote::worker
