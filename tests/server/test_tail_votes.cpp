// The server's half of the vote tail (server/tail_votes.h): per-tensor
// presence tallied over the workers present, against a per-coordinate
// count; the voted bits; the verdicts bad_presence, lr_mismatch and
// schedule_conflict naming the rank, the group and the values.
#include "server/tail_votes.h"

#include "comm/wire.h"
#include "signvote/sign_kernels.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

using namespace signvote;
using protocol::ErrorCode;
using protocol::MsgHeader;

namespace {

uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  return b;
}

// W slots of a shard: header, packed votes, the VOTE tail.
struct Slots {
  Slots(const comm::VoteTail& tail, const comm::Range& shard, int W)
      : tail(tail), shard(shard), sign_words(comm::payload_words(shard.length)),
        bytes(protocol::kHeaderBytes + 4 * (sign_words + tail.up_words())), buf(W * bytes), W(W) {
    for (int k = 0; k < W; ++k) ranks.push_back(10 + k);
  }
  uint32_t* payload(int k) { return reinterpret_cast<uint32_t*>(buf.data() + k * bytes + protocol::kHeaderBytes); }
  uint32_t* tail_of(int k) { return payload(k) + sign_words; }
  void set_pair(int k, size_t g, float lr, float wd) {
    uint32_t* p = tail_of(k) + tail.presence_words() + 2 * g;
    p[0] = bits_of(lr), p[1] = bits_of(wd);
  }
  server::SlotView view() const { return {buf.data(), bytes, static_cast<size_t>(W), &ranks}; }
  comm::VoteTail tail;
  comm::Range shard;
  size_t sign_words, bytes;
  std::vector<std::byte> buf;
  int W;
  std::vector<int> ranks;
};

bool bit(const uint32_t* w, size_t j) { return (w[j / 32] >> (j % 32)) & 1u; }

}  // namespace

TEST_CASE("tail votes: each tensor is tallied over the workers present for it", "[server][tail]") {
  // tensors of odd sizes, so that boundaries fall inside words; the shard
  // starts at 512 and cuts tensors at both ends
  const std::vector<int64_t> sizes = {300, 250, 37, 1, 64, 700, 95, 400};
  const comm::VoteTail tail(sizes, 2);
  const comm::Range shard{512, 1280, 1, 0};
  for (int W : {1, 2, 5, 8}) {
    Slots s(tail, shard, W);
    std::mt19937 rng(static_cast<unsigned>(W));
    std::vector<std::vector<char>> present(W, std::vector<char>(sizes.size()));
    for (int k = 0; k < W; ++k) {
      for (size_t w = 0; w < s.sign_words; ++w) s.payload(k)[w] = w < kernels::packed_words(shard.length) ? rng() : 0;
      s.payload(k)[kernels::packed_words(shard.length) - 1] &= kernels::tail_mask(shard.length);
      for (size_t t = 0; t < sizes.size(); ++t) {
        present[k][t] = t == 2 ? 0 : t == 5 ? 1 : rng() % 3 != 0;  // tensor 2: nobody; 5: everyone
        if (present[k][t]) s.tail_of(k)[t / 32] |= 1u << (t % 32);
      }
      s.set_pair(k, 0, 0.5f, 0.f), s.set_pair(k, 1, 0.25f, 0.125f);
    }
    server::TailVotes tv(tail, shard, kernels::best_ops(), {});
    MsgHeader v;
    REQUIRE(tv.validate(s.view(), v));
    std::vector<uint32_t> out(s.sign_words + tail.down_words());
    const uint64_t step = static_cast<uint64_t>(W);  // both tie parities over the Ws
    kernels::best_ops().tally(s.payload(0), W, s.bytes / 4, s.sign_words, out.data(), kernels::tie_word(step));  // the shard's full tally
    tv.tally(s.view(), out.data(), kernels::tie_word(step));  // round = step (H = 1)
    INFO("W = " << W);
    for (size_t t = 0; t < sizes.size(); ++t) {
      int any = 0;
      for (int k = 0; k < W; ++k) any |= present[k][t];
      CHECK(bit(out.data() + s.sign_words, t) == (any != 0));
      const auto& r = tail.tensor(t);
      for (size_t i = std::max(r.offset, shard.offset); i < std::min(r.offset + r.length, shard.offset + shard.length); ++i) {
        const size_t j = i - shard.offset;
        int ones = 0, P = 0;
        for (int k = 0; k < W; ++k) P += present[k][t], ones += present[k][t] && bit(s.payload(k), j);
        if (P == 0) continue;  // nobody voted: the workers leave it alone
        INFO("tensor " << t << " coordinate " << i << ": " << ones << " of " << P);
        // the majority of the present; a tie is +1 iff coordinate + step is even
        REQUIRE(bit(out.data(), j) == (2 * ones > P || (2 * ones == P && (i + step) % 2 == 0)));
      }
    }
  }
}

TEST_CASE("tail votes: a bad presence word, an odd lr or decay, a scheduled lr changed", "[server][tail]") {
  const comm::VoteTail tail(std::vector<int64_t>{10, 20, 30}, 2);
  const comm::Range shard{0, 60, 0, 0};
  auto slots = [&] {
    Slots s(tail, shard, 4);
    for (int k = 0; k < 4; ++k) s.tail_of(k)[0] = 0b111, s.set_pair(k, 0, 0.5f, 0.f), s.set_pair(k, 1, 0.25f, 0.125f);
    return s;
  };
  MsgHeader v;
  SECTION("presence past the last tensor") {
    Slots s = slots();
    s.tail_of(2)[0] = 0b1011;
    CHECK_FALSE(server::TailVotes(tail, shard, kernels::best_ops(), {}).validate(s.view(), v));
    CHECK(v.status == ErrorCode::bad_presence);
    CHECK(v.err_rank == 12);
    CHECK(comm::describe_error(v) == "rank 12 sent presence word 0xb with bits past its last tensor (bad_presence)");
  }
  SECTION("one worker's weight decay of group 1 differs") {
    Slots s = slots();
    s.set_pair(1, 1, 0.25f, 0.5f);
    CHECK_FALSE(server::TailVotes(tail, shard, kernels::best_ops(), {}).validate(s.view(), v));
    CHECK(v.status == ErrorCode::lr_mismatch);
    CHECK(v.err_rank == 11);
    CHECK(comm::describe_error(v) == "rank 11 applies weight_decay 0.5 to parameter group 1, the other workers "
                                     "weight_decay 0.125: every worker's lr and weight decay must agree at every "
                                     "step (lr_mismatch)");
  }
  SECTION("the server's schedule drives the lr, and the script changed it") {
    Slots s = slots();
    CHECK(server::TailVotes(tail, shard, kernels::best_ops(), {0.5, 0.25}).validate(s.view(), v));
    for (int k = 0; k < 4; ++k) s.set_pair(k, 0, 0.125f, 0.f);
    CHECK_FALSE(server::TailVotes(tail, shard, kernels::best_ops(), {0.5, 0.25}).validate(s.view(), v));
    CHECK(v.status == ErrorCode::schedule_conflict);
    CHECK(v.err_rank == 10);
    CHECK(comm::describe_error(v).find("rank 10 set lr 0.125 for parameter group 0, but the server's "
                                       "optimizer.schedule drives the lr from lr 0.5") == 0);
  }
}
