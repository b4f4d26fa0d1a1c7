// Majority tally: every available ISA against a naive sum of +-1 votes, for
// W = 1..64 (odd and even: the alternating tie rule, steps 0 and 1), W =
// 1023, strided rows, and bad W.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "kernel_test_utils.h"
#include "signvote/sign_kernels.h"

using namespace signvote::kernels;
using signvote::kernels::test::naive_tally;
using signvote::kernels::test::random_votes;

namespace {

// Runs tally for W rows of n bits in wire-padded slots; checks against the
// naive reference, the tail bits, and that nothing is written past `words`.
void check_tally(const SignOps& o, std::size_t W, std::size_t n, std::uint32_t seed) {
  const std::size_t words = packed_words(n);
  const std::size_t stride = wire_words(n);
  const auto votes = random_votes(W, n, stride, seed);
  const std::uint64_t step = seed % 2;
  const auto ref = naive_tally(votes, W, stride, words, step);
  std::vector<std::uint32_t> out(words + 1, 0xA5A5A5A5u);
  o.tally(votes.data(), W, stride, words, out.data(), tie_word(step));
  REQUIRE(out.back() == 0xA5A5A5A5u);
  out.pop_back();
  REQUIRE(out == ref);
  if (n % 32 != 0 && words > 0) REQUIRE((out.back() & ~tail_mask(n)) == 0u);
}

}  // namespace

TEST_CASE("tally W = 1..64 matches the naive vote sum on every ISA", "[kernels][tally]") {
  for (Isa isa : available_isas()) {
    for (std::size_t W = 1; W <= 64; ++W) {
      for (std::size_t n : {std::size_t{1}, std::size_t{33}, std::size_t{1000}, std::size_t{16 * 32 * 3 + 70}}) {
        INFO("isa " << isa_name(isa) << ", W = " << W << ", n = " << n);
        check_tally(ops(isa), W, n, static_cast<std::uint32_t>(W * 1000 + n));
        check_tally(ops(isa), W, n, static_cast<std::uint32_t>(W * 1000 + n + 1));  // the other step parity
      }
    }
  }
}

TEST_CASE("tally W = 1023 (maximum) on every ISA", "[kernels][tally]") {
  for (Isa isa : available_isas()) {
    INFO("isa " << isa_name(isa));
    check_tally(ops(isa), 1023, 700, 99);
    check_tally(ops(isa), 1022, 700, 98);  // even: ties possible
  }
}

TEST_CASE("tally tie rule: an equal split alternates with the coordinate and the step", "[kernels][tally]") {
  CHECK(tie_word(0) == 0x55555555u);  // step 0: even coordinates +1
  CHECK(tie_word(7) == 0xAAAAAAAAu);  // odd step: odd coordinates +1
  for (Isa isa : available_isas()) {
    INFO("isa " << isa_name(isa));
    for (std::size_t W : {2u, 4u, 10u, 64u, 1022u}) {
      // rows alternate all-ones / all-zeros: exactly W/2 votes for +1 everywhere
      const std::size_t words = 37, stride = 48;
      std::vector<std::uint32_t> votes(W * stride, 0u);
      for (std::size_t r = 0; r < W; r += 2) {
        for (std::size_t w = 0; w < words; ++w) votes[r * stride + w] = 0xFFFFFFFFu;
      }
      std::vector<std::uint32_t> even(words), odd(words);
      ops(isa).tally(votes.data(), W, stride, words, even.data(), tie_word(10));
      ops(isa).tally(votes.data(), W, stride, words, odd.data(), tie_word(11));
      CHECK(even == std::vector<std::uint32_t>(words, 0x55555555u));
      CHECK(odd == std::vector<std::uint32_t>(words, 0xAAAAAAAAu));  // every tied coordinate reverses
      // W - 1 of them with one vote more for +1 (not a tie) stays +1 in both steps
      votes[(W - 1) * stride + 3] = 0xFFFFFFFFu;
      ops(isa).tally(votes.data(), W, stride, words, odd.data(), tie_word(11));
      CHECK(odd[3] == 0xFFFFFFFFu);
      // back to the equal split plus one more -1 voter (W+1, odd): no tie, -1 everywhere
      votes[(W - 1) * stride + 3] = 0u;
      votes.resize((W + 1) * stride, 0u);
      ops(isa).tally(votes.data(), W + 1, stride, words, odd.data(), tie_word(11));
      CHECK(odd == std::vector<std::uint32_t>(words, 0u));
    }
  }
}

TEST_CASE("tally on a large vector: every SIMD path equals scalar", "[kernels][tally][simd]") {
  const std::size_t n = 1000007, W = 27;
  const auto votes = random_votes(W, n, wire_words(n), 5);
  std::vector<std::uint32_t> ref(packed_words(n)), out(packed_words(n));
  ops(Isa::scalar).tally(votes.data(), W, wire_words(n), packed_words(n), ref.data(), tie_word(0));
  // spot-check scalar against the definition on the first and last 4096 bits
  std::vector<std::uint32_t> counts(packed_words(n) * 32);
  tally_counts(votes.data(), W, wire_words(n), packed_words(n), counts.data());
  for (std::size_t i = 0; i < counts.size(); i += counts.size() / 4096 + 1) {
    REQUIRE(get_bit(ref.data(), i) == majority_bit(counts[i], W, tie_bit(i, 0)));
  }
  for (Isa isa : available_isas()) {
    INFO("isa " << isa_name(isa));
    ops(isa).tally(votes.data(), W, wire_words(n), packed_words(n), out.data(), tie_word(0));
    CHECK(out == ref);
  }
}

TEST_CASE("tally rejects W outside [1, 1023] and short strides", "[kernels][tally]") {
  std::vector<std::uint32_t> votes(1024 * 4, 0u), out(4);
  for (Isa isa : available_isas()) {
    INFO("isa " << isa_name(isa));
    CHECK_THROWS_AS(ops(isa).tally(votes.data(), 0, 4, 4, out.data(), 0), std::invalid_argument);
    CHECK_THROWS_AS(ops(isa).tally(votes.data(), 1024, 4, 4, out.data(), 0), std::invalid_argument);
    CHECK_THROWS_AS(ops(isa).tally(votes.data(), 3, 2, 4, out.data(), 0), std::invalid_argument);
    CHECK_NOTHROW(ops(isa).tally(votes.data(), 1023, 4, 4, out.data(), 0));
  }
}
