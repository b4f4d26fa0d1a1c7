// The tail of VOTE and RESULT payloads when the workers name their parameter
// tensors (model.tensors: PyTorch workers; protocol.h, "Parameter tensors").
//
//   VOTE tail   [ presence: ceil(T/32) words | (lr_g, wd_g) float32 pairs, g < G | pad to 16 words ]
//   RESULT tail [ voted:    ceil(T/32) words | pad to 16 words ]
//
// Presence bit t (word t/32, bit t%32, as the packed signs) = the sender has
// a gradient for tensor t; voted bit t = some worker had. Without tensors
// (T = 0: the C++ workers) there is no tail and the format is unchanged.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace signvote::comm {

// A tensor's coordinates in the flat parameter vector.
struct TensorRange {
  size_t offset = 0, length = 0;
};

// Header-only, without MPI: RoundFormat (wire.h) carries one, and methods/
// uses that without linking comm.
class VoteTail {
 public:
  VoteTail() = default;
  // sizes (T,): the tensors' lengths in flat order; groups: G >= 1.
  VoteTail(std::span<const int64_t> sizes, size_t groups) : groups_(groups) {
    size_t at = 0;
    for (int64_t n : sizes) tensors_.push_back(TensorRange{at, static_cast<size_t>(n)}), at += static_cast<size_t>(n);
  }
  bool active() const { return !tensors_.empty(); }
  size_t tensors() const { return tensors_.size(); }
  size_t groups() const { return groups_; }
  const TensorRange& tensor(size_t t) const { return tensors_[t]; }  // offset, length in the flat vector
  size_t presence_words() const { return (tensors_.size() + 31) / 32; }
  // Tail words (0 when inactive), each a multiple of 16.
  size_t up_words() const { return active() ? pad16(presence_words() + 2 * groups_) : 0; }
  size_t down_words() const { return active() ? pad16(presence_words()) : 0; }
  // The tensors overlapping [offset, offset + length): [first, last).
  std::pair<size_t, size_t> overlapping(size_t offset, size_t length) const {
    size_t first = SIZE_MAX, last = 0;
    for (size_t t = 0; t < tensors_.size(); ++t) {
      const TensorRange& r = tensors_[t];
      if (r.offset < offset + length && offset < r.offset + r.length) first = std::min(first, t), last = t + 1;
    }
    return first == SIZE_MAX ? std::pair<size_t, size_t>{0, 0} : std::pair{first, last};
  }

 private:
  static size_t pad16(size_t w) { return (w + 15) / 16 * 16; }
  std::vector<TensorRange> tensors_;
  size_t groups_ = 0;
};

// err_expected / err_got of lr_mismatch and schedule_conflict: which value
// (0: lr, 1: weight decay) of which group, and its float32 bits.
inline uint64_t pack_group_value(int field, size_t group, uint32_t bits) {
  return uint64_t(field & 1) << 62 | uint64_t(group & 0x3FFFFFFF) << 32 | bits;
}
inline int group_field(uint64_t packed) { return static_cast<int>(packed >> 62 & 1); }
inline size_t group_index(uint64_t packed) { return static_cast<size_t>(packed >> 32 & 0x3FFFFFFF); }
inline uint32_t group_bits(uint64_t packed) { return static_cast<uint32_t>(packed); }

}  // namespace signvote::comm
