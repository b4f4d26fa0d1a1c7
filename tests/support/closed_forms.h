// The closed forms the vote tests check against, shared by the MPI tests
// (tests/mpi/mpi_vote_test.cpp) and the single-process loopback tests
// (tests/server, tests/worker): who votes what, the majority that must
// come back, the hierarchy's node votes and one Lion round. Header-only;
// the exchange helpers are templates over worker::Exchange / SignSlots
// (parts(), part(p), out_bits(p), result_bits(p), ...), so a server test
// needs no worker code.
#pragma once

#include "signvote/protocol.h"
#include "signvote/sign_kernels.h"
#include "signvote/sign_layout.h"
#include "util/rng.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace signvote::test {

inline uint64_t splitmix(uint64_t z) { return util::mix64(z + util::kGolden); }

// Worker k's vote (+1 = true) on coordinate i in round t. Even rounds use a
// pseudo-random pattern; odd rounds give coordinate i exactly i % (W+1)
// positive votes (workers 0..c-1), so every count 0..W, ties included, occurs.
inline bool vote_of(int k, size_t i, uint64_t t, int W) {
  if (t % 2) return static_cast<size_t>(k) < i % static_cast<size_t>(W + 1);
  return splitmix((t << 48) ^ (uint64_t(k) << 32) ^ i) & 1;
}

// The sign of a vote sum on coordinate i in round t (H = 1: the step):
// positive iff plus > minus; a tie (plus == minus, no votes at all
// included) is positive iff i + t is even (the alternating tie rule,
// sign_layout.h).
inline bool sign_of_sum(int plus, int minus, size_t i, uint64_t t) {
  return plus > minus || (plus == minus && (i + t) % 2 == 0);
}

// Closed form of the majority of the workers in `voters` (indices into
// 0..W-1), P = voters.size() (an absent vote abstains).
inline bool majority_of(const std::vector<int>& voters, size_t i, uint64_t t, int W) {
  int ones = 0;
  for (int k : voters) ones += vote_of(k, i, t, W);
  return sign_of_sum(ones, static_cast<int>(voters.size()) - ones, i, t);
}

// Closed form of the majority of all W workers.
inline bool expected_majority(size_t i, uint64_t t, int W) {
  int ones = 0;
  for (int k = 0; k < W; ++k) ones += vote_of(k, i, t, W);
  return sign_of_sum(ones, W - ones, i, t);
}

// Worker k's estimate in round t: +-0.5 by vote_of (x has d coordinates).
inline void estimate(std::vector<float>& x, int k, uint64_t t, int W) {
  for (size_t i = 0; i < x.size(); ++i) x[i] = vote_of(k, i, t, W) ? 0.5f : -0.5f;
}

// The hierarchy: workers in nodes of `rpn` consecutive ranks sum their
// +-0.5 estimates (never 0: rpn is odd); node n votes +1 iff most of its
// workers do; the result is +1 iff at least half the nodes vote +1.
inline bool node_vote(int n, int rpn, size_t i, uint64_t t, int W) {
  int ones = 0, members = 0;
  for (int k = n * rpn; k < std::min(W, (n + 1) * rpn); ++k) ones += vote_of(k, i, t, W), ++members;
  return 2 * ones > members;
}
inline bool expected_node_majority(size_t i, uint64_t t, int W, int rpn) {
  const int nodes = (W + rpn - 1) / rpn;
  int plus = 0;
  for (int n = 0; n < nodes; ++n) plus += node_vote(n, rpn, i, t, W);
  return sign_of_sum(plus, nodes - plus, i, t);
}

// Packs sign(x) into every part's outgoing words (when this rank sends)
// and posts round t through any exchange.
template <class Exchange>
void post_votes(Exchange& ex, const std::vector<float>& x, uint64_t t) {
  for (size_t s = 0; s < ex.parts() && ex.sends(); ++s) {
    const auto& sh = ex.part(s);
    kernels::best_ops().pack(x.data() + sh.offset, sh.length, ex.out_bits(s));
  }
  ex.begin(t);
  ex.post_rest(t, {});
}
// The same, then waits for every result.
template <class Exchange>
void vote(Exchange& ex, const std::vector<float>& x, uint64_t t) {
  post_votes(ex, x, t);
  ex.wait_all();
}

// Bit i of packed words (sign_layout.h).
inline bool bit(const uint32_t* words, size_t i) { return (words[kernels::word_of(i)] >> kernels::bit_of(i)) & 1u; }

// Coordinates whose voted bit differs from expected(i), over every part.
template <class Slots, class Expected>
size_t wrong_bits(const Slots& slots, const Expected& expected) {
  size_t wrong = 0;
  for (size_t s = 0; s < slots.parts(); ++s) {
    const auto& sh = slots.part(s);
    for (size_t j = 0; j < sh.length; ++j) wrong += bit(slots.result_bits(s), j) != expected(sh.offset + j);
  }
  return wrong;
}

// One round of Lion with majority vote (Distributed Lion). Worker k starts
// from m = lion_value(k, i, 1) and gets g = lion_value(k, i, 2)
// (deterministic values in [-1, 1], zeros included); it votes
// sign(b1 m + (1-b1) g) and keeps m = b2 m + (1-b2) g; everyone applies
// x -= lr (s + wd x) from x = 1. The closed forms use the one float formula
// of sign_layout.h.
struct LionCase {
  float b1 = 0.9f, b2 = 0.99f, lr = 0.01f, wd = 0.1f;
  uint64_t step = 1;  // the round's step (ties alternate with it)
};
inline float lion_value(int k, size_t i, uint64_t salt) {
  return static_cast<float>(static_cast<int>(splitmix((salt << 40) ^ (uint64_t(k) << 32) ^ i) % 2001) - 1000) / 1000.f;
}
// Worker k's inputs: m and g of d coordinates.
inline void lion_inputs(int k, size_t d, std::vector<float>& m, std::vector<float>& g) {
  m.resize(d), g.resize(d);
  for (size_t i = 0; i < d; ++i) m[i] = lion_value(k, i, 1), g[i] = lion_value(k, i, 2);
}
// Worker k's momentum after the round.
inline float lion_momentum(const LionCase& c, int k, size_t i) {
  return kernels::momentum_update(lion_value(k, i, 1), lion_value(k, i, 2), c.b2, 1.f - c.b2);
}
// Every worker's x after the round: the majority of the W directions.
inline float lion_x(const LionCase& c, size_t i, int W) {
  int plus = 0;
  for (int j = 0; j < W; ++j)
    plus += kernels::momentum_update(lion_value(j, i, 1), lion_value(j, i, 2), c.b1, 1.f - c.b1) >= 0.f;
  const float s = sign_of_sum(plus, W - plus, i, c.step) ? 1.f : -1.f;
  return kernels::apply_update(1.0f, s, c.lr, c.wd);
}
// Coordinates of worker k's m and x that differ from the closed forms.
inline size_t lion_wrong(const LionCase& c, int k, int W, const std::vector<float>& m, const std::vector<float>& x) {
  size_t wrong = 0;
  for (size_t i = 0; i < x.size(); ++i) wrong += (m[i] != lion_momentum(c, k, i)) + (x[i] != lion_x(c, i, W));
  return wrong;
}

// The misbehaviour scenarios (mismatch_step, mismatch_length, diverged_hash,
// nan): round 1 is fine; in round 2 worker rank `bad` misbehaves (a length
// mismatch shows from round 1), and every rank must stop with the error
// that names it.
struct Misbehaviour {
  std::string name;
  int bad = 2;  // world rank of the offender
  // d + 10 pads to the same number of words: only the header disagrees.
  size_t dim_of(bool me, size_t d) const { return name == "mismatch_length" && me ? d + 10 : d; }
  uint64_t step_of(bool me, uint64_t t) const { return name == "mismatch_step" && me && t == 2 ? 3 : t; }
  uint64_t hash_of(bool me, uint64_t t) const { return name == "diverged_hash" ? (me && t == 2 ? 0xBAD : 0x600D) : 0; }
  bool nan_at(bool me, uint64_t t) const { return name == "nan" && me && t == 2; }
  uint64_t failing_step() const { return name == "mismatch_length" ? 1 : 2; }
  // What every rank's error message must contain.
  std::vector<std::string> expected_error() const {
    std::vector<std::string> want{"rank " + std::to_string(bad) + " ", "step " + std::to_string(failing_step())};
    if (name == "mismatch_step") want.push_back("sent step 3, expected step 2");
    if (name == "mismatch_length") want.push_back("length_mismatch");
    if (name == "diverged_hash") want.push_back("weights diverged");
    if (name == "nan") want.push_back("1 NaN");
    return want;
  }
};
// Posts round t of a client of one part (ServerExchange) as the scenario says:
// x (the part's coordinates, +1 at first) packed, a NaN in round 2 of `bad`,
// its hash and step. Report is worker::WorkerReport.
template <class Report, class Client>
void post_misbehaving(Client& client, const Misbehaviour& how, bool me, uint64_t t, std::vector<float>& x) {
  Report rep;
  rep.weight_hash = how.hash_of(me, t);
  if (how.nan_at(me, t)) x[17] = std::numeric_limits<float>::quiet_NaN();
  const size_t nan = kernels::best_ops().pack(x.data(), x.size(), client.out_bits(0));
  if (nan) rep.status = protocol::ErrorCode::nan_gradient, rep.err_got = nan;
  const uint64_t step = how.step_of(me, t);
  client.begin(step);
  client.post_rest(step, rep);
}
inline const std::vector<std::string>& misbehaviours() {
  static const std::vector<std::string> all{"mismatch_step", "mismatch_length", "diverged_hash", "nan"};
  return all;
}

}  // namespace signvote::test
