#include "server/tail_votes.h"

#include "signvote/sign_layout.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace signvote::server {

using protocol::ErrorCode;
using protocol::MsgHeader;

namespace {
uint32_t float_bits(double v) {
  const float f = static_cast<float>(v);
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}
}  // namespace

TailVotes::TailVotes(const comm::VoteTail& tail, const comm::Range& shard, const kernels::SignOps& ops,
                     const std::vector<double>& fixed_lr)
    : tail_(tail), shard_(shard), ops_(&ops), sign_words_(comm::payload_words(shard.length)) {
  for (double lr : fixed_lr) fixed_bits_.push_back(float_bits(lr));
}

bool TailVotes::validate(const SlotView& s, MsgHeader& v) const {
  const size_t T = tail_.tensors(), last = tail_.presence_words() - 1;
  const uint32_t valid = T % 32 ? (1u << (T % 32)) - 1 : ~0u;  // the last presence word's tensor bits
  for (size_t k = 0; k < s.voters; ++k) {
    const uint32_t w = tail_of(s, k)[last];
    if (w & ~valid) return comm::reject(v, ErrorCode::bad_presence, (*s.ranks)[k], valid, w);
  }
  return check_lrs(s, v);
}

// The (lr, wd) blocks: every worker's equal to the most common one (the odd
// worker is named), and with the server's schedule, the configured lrs.
bool TailVotes::check_lrs(const SlotView& s, MsgHeader& v) const {
  const size_t G2 = 2 * tail_.groups();
  auto block = [&](size_t k) {
    const uint32_t* b = tail_of(s, k) + tail_.presence_words();
    return std::vector<uint32_t>(b, b + G2);
  };
  std::map<std::vector<uint32_t>, int> seen;
  for (size_t k = 0; k < s.voters; ++k) seen[block(k)]++;
  const auto common = std::max_element(seen.begin(), seen.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; })->first;
  for (size_t k = 0; k < s.voters; ++k) {
    const auto mine = block(k);
    for (size_t i = 0; i < G2; ++i) {
      if (mine[i] != common[i])
        return comm::reject(v, ErrorCode::lr_mismatch, (*s.ranks)[k], comm::pack_group_value(int(i % 2), i / 2, common[i]),
                    comm::pack_group_value(int(i % 2), i / 2, mine[i]));
      if (i % 2 == 0 && !fixed_bits_.empty() && mine[i] != fixed_bits_[i / 2])
        return comm::reject(v, ErrorCode::schedule_conflict, (*s.ranks)[k], comm::pack_group_value(0, i / 2, fixed_bits_[i / 2]),
                    comm::pack_group_value(0, i / 2, mine[i]));
    }
  }
  return true;
}

void TailVotes::tally(const SlotView& s, uint32_t* out, uint32_t ties) {
  uint32_t* voted = out + sign_words_;  // the RESULT's tail
  std::fill(voted, voted + tail_.down_words(), 0u);
  for (size_t k = 0; k < s.voters; ++k)
    for (size_t w = 0; w < tail_.presence_words(); ++w) voted[w] |= tail_of(s, k)[w];
  const auto [first, last] = tail_.overlapping(shard_.offset, shard_.length);
  std::vector<size_t> rows;
  for (size_t t = first; t < last; ++t) {
    rows.clear();
    for (size_t k = 0; k < s.voters; ++k)
      if (present(s, k, t)) rows.push_back(k);
    // everyone: the full tally holds; nobody: the workers leave it alone
    if (!rows.empty() && rows.size() != s.voters) retally(s, t, rows, out, ties);
  }
}

// Tensor t's words of the shard, tallied over `rows` alone; only its own
// bits of the words it shares with its neighbours change.
void TailVotes::retally(const SlotView& s, size_t t, const std::vector<size_t>& rows, uint32_t* out, uint32_t ties) {
  const auto& r = tail_.tensor(t);
  const size_t a = std::max(r.offset, shard_.offset) - shard_.offset;
  const size_t b = std::min(r.offset + r.length, shard_.offset + shard_.length) - shard_.offset;
  const size_t w0 = a / 32, n = (b + 31) / 32 - w0;
  if (compact_.size() < rows.size() * n) compact_ = AlignedBuffer<uint32_t>(rows.size() * n);
  if (tmp_.size() < n) tmp_ = AlignedBuffer<uint32_t>(n);
  for (size_t i = 0; i < rows.size(); ++i) std::copy_n(s.payload(rows[i]) + w0, n, compact_.data() + i * n);
  ops_->tally(compact_.data(), rows.size(), n, n, tmp_.data(), ties);  // w0: a whole word
  for (size_t w = w0; w < w0 + n; ++w) {
    const size_t lo = std::max(a, w * 32) - w * 32, hi = std::min(b, w * 32 + 32) - w * 32;
    const uint32_t mask = hi - lo == 32 ? ~0u : ((1u << (hi - lo)) - 1) << lo;
    out[w] = (out[w] & ~mask) | (tmp_[w - w0] & mask);
  }
}

double TailVotes::lr0(const SlotView& s) const {
  if (tail_.groups() == 0 || s.voters == 0) return -1;
  float lr;
  std::memcpy(&lr, tail_of(s, 0) + tail_.presence_words(), sizeof lr);
  return lr;
}

}  // namespace signvote::server
