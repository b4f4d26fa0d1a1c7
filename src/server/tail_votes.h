// The server's half of the vote tail (comm/vote_tail.h, protocol.h
// "Parameter tensors") for one shard: validates the workers' presence bits
// and (lr, wd) blocks, re-tallies the tensors some workers abstained on over
// the workers present for them, and writes the voted bits into the RESULT.
#pragma once

#include "comm/topology.h"
#include "comm/vote_tail.h"
#include "comm/wire.h"
#include "signvote/aligned_buffer.h"
#include "signvote/sign_kernels.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace signvote::server {

// The W receive slots of a shard: slot k = header + payload, slot_bytes apart.
struct SlotView {
  const std::byte* base = nullptr;
  size_t slot_bytes = 0;
  size_t voters = 0;
  const std::vector<int>* ranks = nullptr;  // world rank of slot k
  const protocol::MsgHeader& header(size_t k) const {
    return *reinterpret_cast<const protocol::MsgHeader*>(base + k * slot_bytes);
  }
  const uint32_t* payload(size_t k) const {
    return reinterpret_cast<const uint32_t*>(base + k * slot_bytes + protocol::kHeaderBytes);
  }
};

class TailVotes {
 public:
  TailVotes() = default;
  // fixed_lr: when the server's optimizer.schedule drives the lr, the
  // groups' configured lrs, which the workers may not change (else empty).
  // ops: the tally kernels (aggregation.isa).
  TailVotes(const comm::VoteTail& tail, const comm::Range& shard, const kernels::SignOps& ops,
            const std::vector<double>& fixed_lr);
  bool active() const { return tail_.active(); }
  // Every worker's presence bits and (lr, wd) block; false with `verdict`
  // filled (bad_presence, lr_mismatch or schedule_conflict).
  bool validate(const SlotView& slots, protocol::MsgHeader& verdict) const;
  // out: the shard's majority over every worker (the RESULT payload). Each
  // tensor some worker abstained on is tallied again over the workers
  // present for it; the voted bits follow the majority's words.
  void tally(const SlotView& slots, uint32_t* out, uint32_t ties);  // ties: kernels::tie_word(round)
  // Group 0's lr as the workers sent it (the server's log).
  double lr0(const SlotView& slots) const;

 private:
  const uint32_t* tail_of(const SlotView& s, size_t k) const { return s.payload(k) + sign_words_; }
  bool present(const SlotView& s, size_t k, size_t t) const { return (tail_of(s, k)[t / 32] >> (t % 32)) & 1u; }
  void retally(const SlotView& slots, size_t t, const std::vector<size_t>& rows, uint32_t* out, uint32_t ties);
  bool check_lrs(const SlotView& slots, protocol::MsgHeader& verdict) const;

  comm::VoteTail tail_;
  comm::Range shard_;
  const kernels::SignOps* ops_ = nullptr;
  size_t sign_words_ = 0;  // packed words before the tail (wire_words of the shard)
  std::vector<uint32_t> fixed_bits_;
  AlignedBuffer<uint32_t> compact_, tmp_;  // a tensor's present rows, its majority
};

}  // namespace signvote::server
