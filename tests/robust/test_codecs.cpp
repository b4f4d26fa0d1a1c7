// QSGD: unbiasedness against a derived variance bound, exact decoded values,
// wire size formula; EF-SignSGD: round-trip and the residual identity.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "signvote/sign_layout.h"
#include "signvote/compressor.h"

using namespace signvote;
using Norm = QsgdCodec::Norm;

namespace {

std::vector<float> random_vector(size_t d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> g(d);
  for (float& x : g) x = normal(rng);
  return g;
}

// Norm as the header defines it: l2 = sqrt(double sum of squares), max = max |g_i|.
float test_norm(const std::vector<float>& g, Norm norm) {
  double acc = 0;
  for (float x : g)
    acc = norm == Norm::l2 ? acc + double(x) * double(x) : std::max(acc, std::fabs(double(x)));
  return static_cast<float>(norm == Norm::l2 ? std::sqrt(acc) : acc);
}

float message_scalar(const std::vector<std::byte>& msg) {
  float v;
  std::memcpy(&v, msg.data(), 4);
  return v;
}

}  // namespace

TEST_CASE("qsgd encoded_bytes is the real wire size", "[qsgd]") {
  // Bits per coordinate: 1 sign + b level bits, b = ceil(log2(s + 1)).
  CHECK(QsgdCodec(10, 1, Norm::l2).level_bits() == 1);
  CHECK(QsgdCodec(10, 2, Norm::l2).level_bits() == 2);
  CHECK(QsgdCodec(10, 3, Norm::l2).level_bits() == 2);
  CHECK(QsgdCodec(10, 7, Norm::l2).level_bits() == 3);
  CHECK(QsgdCodec(10, 15, Norm::l2).level_bits() == 4);
  for (size_t d : {1u, 31u, 32u, 33u, 1000u, 4097u})
    for (int s : {1, 2, 3, 7, 15}) {
      const QsgdCodec codec(d, s, Norm::max);
      const size_t b = static_cast<size_t>(codec.level_bits());
      const size_t expect = 4 + 4 * ((d + 31) / 32) + 4 * ((d * b + 31) / 32);
      CHECK(codec.encoded_bytes() == expect);
      if (d == 1000) CHECK(codec.encoded_bytes() < 4 * d);
      // encode writes exactly encoded_bytes(): the sentinel tail survives.
      std::vector<std::byte> msg(expect + 16, std::byte{0xAB});
      CHECK(codec.encode(random_vector(d, 1), msg, 1, 0) == 0);
      CHECK(std::all_of(msg.begin() + static_cast<long>(expect), msg.end(),
                        [](std::byte x) { return x == std::byte{0xAB}; }));
    }
  CHECK(QsgdCodec::encoded_bytes(1000, 1) == 4 + 128 + 128);  // 2 bits/coord + norm
  CHECK(QsgdCodec::encoded_bytes(1000, 15) == 4 + 128 + 500);  // 5 bits/coord + norm
  CHECK_THROWS_AS(QsgdCodec(10, 0, Norm::l2), std::invalid_argument);
  CHECK_THROWS_AS(QsgdCodec(10, QsgdCodec::kMaxLevels + 1, Norm::l2), std::invalid_argument);
}

TEST_CASE("qsgd decoded values are +-v*l/s with l a neighbour of s|g|/v", "[qsgd]") {
  const size_t d = 1000;
  for (Norm norm : {Norm::l2, Norm::max})
    for (int s : {1, 2, 3, 7, 15}) {
      const QsgdCodec codec(d, s, norm);
      const std::vector<float> g = random_vector(d, 100 + static_cast<unsigned>(s));
      std::vector<std::byte> msg(codec.encoded_bytes());
      std::vector<float> out(d);
      REQUIRE(codec.encode(g, msg, 42, 3) == 0);
      codec.decode(msg, out);
      const float v = message_scalar(msg);
      REQUIRE(v == test_norm(g, norm));
      size_t bad = 0;
      for (size_t i = 0; i < d; ++i) {
        const double r = s * std::fabs(double(g[i])) / v;  // in [0, s]
        const bool sign_ok = out[i] == 0.0f || (out[i] > 0) == (g[i] >= 0);
        bool level_ok = false;
        for (double l : {std::floor(r), std::ceil(r)})
          level_ok |= std::fabs(out[i]) == static_cast<float>(double(v) * l / s);
        bad += !(sign_ok && level_ok);
      }
      INFO("s = " << s << " norm " << (norm == Norm::l2 ? "l2" : "max"));
      CHECK(bad == 0);
    }
}

TEST_CASE("qsgd buckets: one norm per B coordinates, each bucket quantised on its own", "[qsgd]") {
  const size_t d = 1000, B = 300;  // buckets [0,300) [300,600) [600,900) [900,1000)
  CHECK(QsgdCodec::encoded_bytes(1000, 1, 512) == 8 + 128 + 128);
  CHECK(QsgdCodec::encoded_bytes(1000, 1, 0) == QsgdCodec::encoded_bytes(1000, 1));
  CHECK(QsgdCodec(1000, 1, Norm::l2, 5000).buckets() == 1);  // B > d: one bucket
  std::vector<float> g = random_vector(d, 77);
  for (size_t i = 300; i < 600; ++i) g[i] = 0.0f;     // an all-zero bucket
  for (size_t i = 600; i < 900; ++i) g[i] *= 1000.0f;  // a loud bucket
  for (Norm norm : {Norm::l2, Norm::max}) {
    const QsgdCodec codec(d, 3, norm, B);
    REQUIRE(codec.buckets() == 4);
    std::vector<std::byte> msg(codec.encoded_bytes());
    std::vector<float> out(d);
    REQUIRE(codec.encode(g, msg, 42, 3) == 0);
    codec.decode(msg, out);
    size_t bad = 0;
    for (size_t k = 0; k < 4; ++k) {
      const size_t lo = k * B, hi = std::min(d, lo + B);
      float v;
      std::memcpy(&v, msg.data() + 4 * k, 4);
      CHECK(v == test_norm(std::vector<float>(g.begin() + lo, g.begin() + hi), norm));
      for (size_t i = lo; i < hi; ++i) {
        const double r = v > 0 ? 3 * std::fabs(double(g[i])) / v : 0.0;
        bool level_ok = false;
        for (double l : {std::floor(r), std::ceil(r)}) level_ok |= std::fabs(out[i]) == static_cast<float>(double(v) * l / 3);
        bad += !level_ok || !(out[i] == 0.0f || (out[i] > 0) == (g[i] >= 0));
      }
    }
    CHECK(bad == 0);
    CHECK(std::all_of(out.begin() + 300, out.begin() + 600, [](float x) { return x == 0.0f; }));
    // The quiet buckets keep their resolution: some level > 0 in bucket 0.
    CHECK(std::any_of(out.begin(), out.begin() + 300, [](float x) { return x != 0.0f; }));
  }
}

TEST_CASE("qsgd is unbiased: mean of 20000 encodings within 5 sigma", "[qsgd]") {
  // Per coordinate l ~ floor(r) + Bernoulli(frac(r)), so Var[g'_i] =
  // (v/s)^2 p(1-p) <= v^2 / (4 s^2); the mean of N encodings has standard
  // deviation <= v / (2 s sqrt(N)). A biased quantiser (no dither) would be
  // off by up to v/s = 2 sqrt(N) sigma = 283 sigma.
  const size_t d = 64, N = 20000;
  std::vector<float> g = random_vector(d, 5);
  g[3] = 0.0f;
  g[7] = -g[9];
  for (Norm norm : {Norm::l2, Norm::max})
    for (int s : {1, 3, 15}) {
      // Bucket 0 (one norm) and 16 (4 buckets; each bucket's norm <= v below).
      const QsgdCodec codec(d, s, norm, s == 3 ? 16 : 0);
      std::vector<std::byte> msg(codec.encoded_bytes());
      std::vector<float> out(d);
      std::vector<double> sum(d, 0.0);
      for (size_t t = 0; t < N; ++t) {
        codec.encode(g, msg, 2024, t);
        codec.decode(msg, out);
        for (size_t i = 0; i < d; ++i) sum[i] += out[i];
      }
      const double v = test_norm(g, norm);
      const double sigma = v / (2.0 * s * std::sqrt(double(N)));
      double worst = 0;
      for (size_t i = 0; i < d; ++i) worst = std::max(worst, std::fabs(sum[i] / N - g[i]) / sigma);
      INFO("s = " << s << " norm " << (norm == Norm::l2 ? "l2" : "max") << " worst deviation "
                  << worst << " sigma");
      CHECK(worst < 5.0);
      CHECK(sum[3] == 0.0);  // zero coordinate: level always 0
    }
}

TEST_CASE("qsgd zero vector, determinism, non-finite input", "[qsgd]") {
  const size_t d = 100;
  const QsgdCodec codec(d, 3, Norm::l2);
  std::vector<std::byte> a(codec.encoded_bytes()), b(codec.encoded_bytes());
  std::vector<float> out(d, 1.0f);
  CHECK(codec.encode(std::vector<float>(d, 0.0f), a, 1, 1) == 0);
  CHECK(message_scalar(a) == 0.0f);
  codec.decode(a, out);
  CHECK(std::all_of(out.begin(), out.end(), [](float x) { return x == 0.0f; }));

  const std::vector<float> g = random_vector(d, 9);
  codec.encode(g, a, 7, 5);
  codec.encode(g, b, 7, 5);
  CHECK(a == b);  // same (seed, step): same bytes
  codec.encode(g, b, 7, 6);
  CHECK(a != b);  // next step: fresh dither
  codec.encode(g, b, 8, 5);
  CHECK(a != b);  // other worker seed

  std::vector<float> bad = g;
  bad[10] = std::nanf("");
  bad[20] = INFINITY;
  CHECK(codec.encode(bad, a, 7, 5) == 2);
  codec.decode(a, out);
  CHECK(std::all_of(out.begin(), out.end(), [](float x) { return x == 0.0f; }));
  CHECK_THROWS_AS(codec.encode(g, std::span(a).first(a.size() - 1), 7, 5), std::invalid_argument);
  CHECK(parse_qsgd_norm("max") == Norm::max);
  CHECK_THROWS_WITH(parse_qsgd_norm("l1"), Catch::Matchers::Contains("aggregation.norm"));
}

TEST_CASE("ef_sign sends scale*sign(g+e) and keeps the rest as residual", "[ef]") {
  for (size_t d : {1u, 32u, 33u, 1000u})
    CHECK(EfSignCodec::encoded_bytes(d) == 4 + 4 * kernels::packed_words(d));
  const size_t d = 1000;
  EfSignCodec codec(d);
  CHECK(codec.encoded_bytes() == 4 + 4 * 32);
  std::vector<std::byte> msg(codec.encoded_bytes());
  std::vector<float> out(d);
  std::vector<double> sent(d, 0.0), fed(d, 0.0);  // sums over steps
  for (unsigned step = 0; step < 20; ++step) {
    const std::vector<float> g = random_vector(d, 300 + step);
    const std::vector<float> e_old(codec.residual().begin(), codec.residual().end());
    REQUIRE(codec.encode(g, msg) == 0);
    EfSignCodec::decode(msg, out);
    double l1 = 0;
    for (size_t i = 0; i < d; ++i) l1 += std::fabs(double(g[i] + e_old[i]));
    const float scale = static_cast<float>(l1 / d);
    REQUIRE(message_scalar(msg) == scale);
    size_t bad_sign = 0, bad_identity = 0;
    for (size_t i = 0; i < d; ++i) {
      const float p = g[i] + e_old[i];
      bad_sign += out[i] != (p >= 0 ? scale : -scale);
      // g + e_old = decoded + e_new, up to one rounding of p and of e_new.
      const double lhs = double(g[i]) + e_old[i], rhs = double(out[i]) + codec.residual()[i];
      bad_identity += std::fabs(lhs - rhs) > 1e-6 * (std::fabs(p) + scale);
      sent[i] += out[i];
      fed[i] += g[i];
    }
    CHECK(bad_sign == 0);
    CHECK(bad_identity == 0);
  }
  // Telescoped: sum of decoded = sum of g - e_T (nothing is lost).
  for (size_t i = 0; i < d; ++i) CHECK(sent[i] == Approx(fed[i] - codec.residual()[i]).margin(1e-4));
}

TEST_CASE("ef_sign non-finite input resets the residual, size checks", "[ef]") {
  EfSignCodec codec(40);
  std::vector<std::byte> msg(codec.encoded_bytes());
  std::vector<float> g = random_vector(40, 3), out(40);
  REQUIRE(codec.encode(g, msg) == 0);
  CHECK(std::any_of(codec.residual().begin(), codec.residual().end(), [](float x) { return x != 0; }));
  g[39] = std::nanf("");
  CHECK(codec.encode(g, msg) == 1);
  CHECK(std::all_of(codec.residual().begin(), codec.residual().end(), [](float x) { return x == 0; }));
  EfSignCodec::decode(msg, out);
  CHECK(std::all_of(out.begin(), out.end(), [](float x) { return x == 0; }));
  CHECK_THROWS_AS(EfSignCodec::decode(std::span(msg).first(msg.size() - 1), out), std::invalid_argument);
  CHECK_THROWS_AS(codec.encode(std::span(g).first(39), msg), std::invalid_argument);
}
