// pack / momentum_pack / apply / invert_signs / ISA dispatch: every available
// ISA against naive references and against the scalar path (bit-exact).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernel_test_utils.h"
#include "signvote/sign_kernels.h"

using namespace signvote::kernels;
using signvote::kernels::test::kOffsets;
using signvote::kernels::test::naive_pack;
using signvote::kernels::test::PlacedFloats;
using signvote::kernels::test::random_floats;

namespace {

const std::size_t kSizes[] = {0, 1, 31, 32, 33, 1000, 1000007};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs pack on a copy of x placed `offset` floats past 64-byte alignment.
std::vector<std::uint32_t> pack_with(const SignOps& o, const std::vector<float>& x,
                                     std::size_t* nans, std::size_t offset = 1) {
  PlacedFloats buf(x, offset);
  std::vector<std::uint32_t> out(packed_words(x.size()) + 1, 0xDEADBEEFu);
  *nans = o.pack(buf.data(), x.size(), out.data());
  CHECK(out.back() == 0xDEADBEEFu);  // no write past packed_words(n)
  out.pop_back();
  return out;
}

}  // namespace

TEST_CASE("layout helpers", "[kernels][layout]") {
  CHECK(packed_words(0) == 0);
  CHECK(packed_words(32) == 1);
  CHECK(packed_words(33) == 2);
  CHECK(tail_mask(33) == 0x1u);
  CHECK(tail_mask(64) == 0xFFFFFFFFu);
  CHECK(wire_words(1) == 16);
  CHECK(wire_words(16 * 32 + 1) == 32);
  CHECK(wire_words(11173962) % kWireAlignWords == 0);
  CHECK(sign_bit(0.0f) == 1u);
  CHECK(sign_bit(-0.0f) == 1u);
  CHECK(sign_bit(std::numeric_limits<float>::quiet_NaN()) == 0u);
  for (std::uint32_t W = 1; W <= 1023; ++W) {
    // majority_bit == (sum of +-1 votes > 0), sum = 2*ones - W; a tie (sum 0) takes tie_bit
    for (std::uint32_t ones : {0u, W / 2, (W + 1) / 2, W}) {
      const long sum = 2 * static_cast<long>(ones) - W;
      for (std::uint32_t tie : {0u, 1u}) REQUIRE(majority_bit(ones, W, tie) == (sum > 0 || (sum == 0 && tie) ? 1u : 0u));
    }
    REQUIRE((1u << counter_bits(W)) >= W);
  }
}

TEST_CASE("pack matches the naive reference on every ISA", "[kernels][pack]") {
  for (Isa isa : available_isas()) {
    for (std::size_t n : kSizes) {
      for (std::size_t offset : kOffsets) {
        INFO("isa " << isa_name(isa) << ", n = " << n << ", offset " << offset);
        const auto x = random_floats(n, static_cast<std::uint32_t>(n) + 1);
        std::size_t ref_nans = 0, nans = 0;
        const auto ref = naive_pack(x, &ref_nans);
        const auto got = pack_with(ops(isa), x, &nans, offset);
        REQUIRE(got == ref);
        CHECK(nans == 0);
        if (n % 32 != 0) CHECK((got.back() & ~tail_mask(n)) == 0u);
      }
    }
  }
}

TEST_CASE("pack: +-0 give +1, NaN gives bit 0; NaN and +-inf are counted", "[kernels][pack]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (Isa isa : available_isas()) {
    INFO("isa " << isa_name(isa));
    for (std::size_t n : {std::size_t{5}, std::size_t{40}, std::size_t{1000}}) {
     for (std::size_t offset : kOffsets) {
      INFO("n = " << n << ", offset " << offset);
      std::vector<float> x(n, -1.0f);
      x[0] = 0.0f;
      x[1] = -0.0f;
      x[2] = nan;
      x[3] = inf;
      x[4] = -inf;
      if (n > 33) x[33] = -nan;
      if (n > 40) x[40] = -inf;  // a full word (the vector path), not the first
      if (n > 999) x[999] = nan;
      std::size_t nans = 0;
      const auto bits = pack_with(ops(isa), x, &nans, offset);
      CHECK(nans == 3u + (n > 33) + (n > 40) + (n > 999));  // x[2..4], then 33, 40, 999
      CHECK((bits[0] & 0x1Fu) == 0b01011u);  // +0, -0, NaN->0, +inf, -inf->0
      if (n > 33) CHECK(get_bit(bits.data(), 33) == 0u);
     }
    }
  }
}

// Runs pack(ops, m, g, n, bits) on every ISA, size and offset against the
// reference: bits = sign(b1 m + (1-b1) g), then m = b2 m + (1-b2) g (Signum:
// b1 = b2); a NaN gradient is reported and poisons m.
template <class Pack>
void check_fused_pack(float b1, float b2, Pack pack) {
  for (Isa isa : available_isas()) {
    for (std::size_t n : kSizes) {
     for (std::size_t offset : kOffsets) {
      INFO("isa " << isa_name(isa) << ", n = " << n << ", offset " << offset);
      PlacedFloats g(random_floats(n, 7), offset);
      PlacedFloats m(random_floats(n, 8), offset);
      auto m_ref = m.to_vector();
      const auto g_ref = g.to_vector();
      std::vector<float> c(n);
      for (std::size_t i = 0; i < n; ++i) {
        c[i] = b1 * m_ref[i] + (1.0f - b1) * g_ref[i];
        m_ref[i] = b2 * m_ref[i] + (1.0f - b2) * g_ref[i];
      }
      std::size_t ref_nans = 0;
      const auto ref_bits = naive_pack(c, &ref_nans);
      std::vector<std::uint32_t> bits(packed_words(n));
      CHECK(pack(ops(isa), m.data(), g.data(), n, bits.data()) == 0);
      REQUIRE(same_bits(m.to_vector(), m_ref));
      REQUIRE(bits == ref_bits);
      if (n > 40) {
        g.data()[40] = std::numeric_limits<float>::quiet_NaN();
        CHECK(pack(ops(isa), m.data(), g.data(), n, bits.data()) == 1);
        CHECK(std::isnan(m.data()[40]));
      }
     }
    }
  }
}

TEST_CASE("momentum_pack matches the reference formula on every ISA", "[kernels][momentum]") {
  check_fused_pack(0.9f, 0.9f, [](const SignOps& o, float* m, const float* g, std::size_t n, std::uint32_t* bits) {
    return o.momentum_pack(m, g, n, 0.9f, bits);
  });
}

TEST_CASE("lion_pack matches the reference formula on every ISA", "[kernels][lion]") {
  check_fused_pack(0.9f, 0.99f, [](const SignOps& o, float* m, const float* g, std::size_t n, std::uint32_t* bits) {
    return o.lion_pack(m, g, n, 0.9f, 0.99f, bits);
  });
}

TEST_CASE("apply matches x -= lr*(s + wd*x) on every ISA", "[kernels][apply]") {
  for (Isa isa : available_isas()) {
    for (std::size_t n : kSizes) {
      for (float wd : {0.0f, 5e-4f}) {
        INFO("isa " << isa_name(isa) << ", n = " << n << ", wd = " << wd);
        const float lr = 1e-3f;
        auto x = random_floats(n, 11);
        const auto signs = random_floats(n, 12);
        std::size_t unused = 0;
        auto bits = naive_pack(signs, &unused);
        if (n % 32 != 0) bits.back() |= ~tail_mask(n);  // tail garbage must be ignored
        auto x_ref = x;
        for (std::size_t i = 0; i < n; ++i) {
          const float s = std::signbit(signs[i] + 0.0f) ? -1.0f : 1.0f;
          x_ref[i] = x_ref[i] - lr * (s + wd * x_ref[i]);
          // sanity vs double maths: one step moves x by lr*(+-1 + wd*x)
          REQUIRE(std::abs(static_cast<double>(x_ref[i]) - (x[i] - 1e-3 * (s + wd * x[i]))) <=
                  1e-6 * (1.0 + std::abs(x[i])));
        }
        for (std::size_t offset : kOffsets) {
          INFO("offset " << offset);
          PlacedFloats buf(x, offset);
          ops(isa).apply(buf.data(), n, bits.data(), lr, wd);
          REQUIRE(same_bits(buf.to_vector(), x_ref));
        }
      }
    }
  }
}

TEST_CASE("every SIMD path is bit-identical to scalar", "[kernels][simd]") {
  const std::size_t n = 100003;
  const auto g = random_floats(n, 21);
  const auto x0 = random_floats(n, 22);
  const SignOps& scalar = ops(Isa::scalar);
  std::vector<std::uint32_t> ref_bits(packed_words(n)), bits(packed_words(n));
  auto m_ref = x0;
  scalar.momentum_pack(m_ref.data(), g.data(), n, 0.95f, ref_bits.data());
  auto x_ref = x0;
  scalar.apply(x_ref.data(), n, ref_bits.data(), 0.01f, 0.1f);
  for (Isa isa : available_isas()) {
    for (std::size_t offset : kOffsets) {
      INFO("isa " << isa_name(isa) << ", offset " << offset);
      PlacedFloats m(x0, offset), gp(g, offset);
      ops(isa).momentum_pack(m.data(), gp.data(), n, 0.95f, bits.data());
      CHECK(same_bits(m.to_vector(), m_ref));
      CHECK(bits == ref_bits);
      PlacedFloats x(x0, offset);
      ops(isa).apply(x.data(), n, bits.data(), 0.01f, 0.1f);
      CHECK(same_bits(x.to_vector(), x_ref));
    }
  }
}

TEST_CASE("invert_signs flips the n valid bits and keeps the tail 0", "[kernels][invert]") {
  for (std::size_t n : kSizes) {
    INFO("n = " << n);
    std::size_t unused = 0;
    const auto orig = naive_pack(random_floats(n, 31), &unused);
    auto bits = orig;
    invert_signs(bits.data(), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(get_bit(bits.data(), i) != get_bit(orig.data(), i));
    if (n % 32 != 0) CHECK((bits.back() & ~tail_mask(n)) == 0u);
    invert_signs(bits.data(), n);
    CHECK(bits == orig);
  }
}

TEST_CASE("ISA names, parsing and dispatch", "[kernels][isa]") {
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) CHECK(parse_isa(isa_name(isa)) == isa);
  CHECK_THROWS_AS(parse_isa("avx1024"), std::invalid_argument);
  CHECK_THROWS_WITH(parse_isa("neon"), Catch::Contains("'neon'"));
  // The config's names: "auto" is the best ISA, the rest parse as above.
  CHECK(&ops_named("auto") == &best_ops());
  CHECK(ops_named("scalar").isa == Isa::scalar);
  CHECK_THROWS_WITH(ops_named("neon"), Catch::Contains("'neon'"));
  CHECK_THROWS_AS(parse_isa(""), std::invalid_argument);

  const auto isas = available_isas();
  REQUIRE(!isas.empty());
  CHECK(isas.back() == Isa::scalar);
  CHECK(best_ops().isa == isas.front());
  for (Isa isa : isas) CHECK(ops(isa).isa == isa);
  for (Isa isa : {Isa::avx2, Isa::avx512}) {
    if (std::find(isas.begin(), isas.end(), isa) == isas.end()) {
      CHECK_THROWS_WITH(ops(isa), std::string("ISA ") + isa_name(isa) + " not supported by this CPU");
    }
  }
}
