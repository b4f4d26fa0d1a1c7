// Adversary modes transform a known gradient as documented in adversary.h.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "signvote/adversary.h"

using namespace signvote;

namespace {
std::vector<float> known_gradient(size_t d) {
  std::mt19937 rng(17);
  std::normal_distribution<float> normal(0.0f, 0.01f);
  std::vector<float> g(d);
  for (float& x : g) x = normal(rng);
  return g;
}
}  // namespace

TEST_CASE("adversary names, parse errors and default scales", "[adversary]") {
  for (AdversaryMode m : {AdversaryMode::invert, AdversaryMode::negative, AdversaryMode::random,
                          AdversaryMode::gaussian})
    CHECK(parse_adversary_mode(adversary_mode_name(m)) == m);
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(parse_adversary_mode("invrt"), Contains("'invrt'") && Contains("adversary.mode") &&
                                                       Contains("invert, negative, random, gaussian"));
  CHECK_THROWS_AS(parse_adversary_mode(""), std::invalid_argument);
  CHECK(default_adversary_scale(AdversaryMode::negative) == 10.0f);
  CHECK(default_adversary_scale(AdversaryMode::random) == 10.0f);
  CHECK(default_adversary_scale(AdversaryMode::gaussian) == 1.0f);
}

TEST_CASE("invert and negative are exact", "[adversary]") {
  const std::vector<float> g = known_gradient(1001);
  std::vector<float> a = g, b = g;
  corrupt_gradient(AdversaryMode::invert, 10.0f, a, 1, 1);
  corrupt_gradient(AdversaryMode::negative, 10.0f, b, 1, 1);
  for (size_t i = 0; i < g.size(); ++i) {
    CHECK(a[i] == -g[i]);
    CHECK(b[i] == -10.0f * g[i]);
  }
}

TEST_CASE("random keeps magnitudes x10 and flips about half the signs", "[adversary]") {
  const size_t d = 10000;
  const std::vector<float> g = known_gradient(d);
  std::vector<float> a = g;
  corrupt_gradient(AdversaryMode::random, 10.0f, a, 5, 9);
  size_t flipped = 0;
  for (size_t i = 0; i < d; ++i) {
    REQUIRE(std::fabs(a[i]) == 10.0f * std::fabs(g[i]));
    flipped += (a[i] >= 0) != (g[i] >= 0);
  }
  // Binomial(d, 1/2): sd = 50; accept +-5 sd.
  CHECK(flipped > d / 2 - 250);
  CHECK(flipped < d / 2 + 250);
  std::vector<float> b = g, c = g;
  corrupt_gradient(AdversaryMode::random, 10.0f, b, 5, 9);
  corrupt_gradient(AdversaryMode::random, 10.0f, c, 5, 10);
  CHECK(a == b);  // deterministic in (seed, step)
  CHECK(a != c);  // fresh coins each step
}

TEST_CASE("gaussian replaces the gradient by N(0, scale^2) noise", "[adversary]") {
  const size_t N = 100001;  // odd: the last Box-Muller pair is half used
  const float scale = 2.0f;
  std::vector<float> a = known_gradient(N), b(N, 123.0f);
  corrupt_gradient(AdversaryMode::gaussian, scale, a, 3, 4);
  corrupt_gradient(AdversaryMode::gaussian, scale, b, 3, 4);
  CHECK(a == b);  // independent of the input gradient
  double sum = 0, sq = 0;
  for (float x : a) {
    sum += x;
    sq += double(x) * x;
  }
  const double mean = sum / N, sd = std::sqrt(sq / N - mean * mean);
  // Standard errors: mean scale/sqrt(N) = 0.0063, sd scale/sqrt(2N) = 0.0045; 5 each.
  CHECK(std::fabs(mean) < 5 * scale / std::sqrt(double(N)));
  CHECK(std::fabs(sd - scale) < 5 * scale / std::sqrt(2.0 * N));
  // Tail mass beyond 2 sd is 4.55% for a normal (binomial sd 0.066%).
  const auto tail = std::count_if(a.begin(), a.end(), [&](float x) { return std::fabs(x) > 2 * scale; });
  CHECK(std::fabs(double(tail) / N - 0.0455) < 0.0035);
  std::vector<float> c(N, 0.0f);
  corrupt_gradient(AdversaryMode::gaussian, scale, c, 3, 5);
  CHECK(a != c);
}
