// Dense aggregators: Multi-Krum on cases whose scores are derived by hand,
// constraint errors, coordinate median against a sort-based reference.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "signvote/aggregator.h"

using namespace signvote;

namespace {

// Row-major (n, d) matrix with a vector of row pointers for aggregate().
struct Rows {
  std::vector<std::vector<float>> data;
  std::vector<const float*> ptrs;
  explicit Rows(std::vector<std::vector<float>> rows) : data(std::move(rows)) {
    for (const auto& r : data) ptrs.push_back(r.data());
  }
  std::span<const float* const> span() const { return ptrs; }
};

// 1-D rows (d = 1) from scalars.
Rows scalars(std::vector<float> v) {
  std::vector<std::vector<float>> r;
  for (float x : v) r.push_back({x});
  return Rows(std::move(r));
}

std::vector<int> sorted(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("multi_krum scores and selection on a hand-computed 1-D case", "[krum]") {
  // n = 5, f = 1: each score sums the n - f - 2 = 2 nearest squared distances.
  //   x = 0:   {1, 9, 36, 10000}        -> 1 + 9  = 10
  //   x = 1:   {1, 4, 25, 9801}         -> 1 + 4  = 5
  //   x = 3:   {9, 4, 9, 9409}          -> 4 + 9  = 13
  //   x = 6:   {36, 25, 9, 8836}        -> 9 + 25 = 34
  //   x = 100: {10000, 9801, 9409, 8836}-> 8836 + 9409 = 18245
  const Rows rows = scalars({0, 1, 3, 6, 100});
  const std::vector<double> scores = krum_scores(rows.span(), 1, 1);
  CHECK(scores == std::vector<double>{10, 5, 13, 34, 18245});

  float out = -1;
  // Default m = n - f = 4: rows 1, 0, 2, 3 (by score); mean (1+0+3+6)/4.
  auto agg = make_dense_aggregator("multi_krum", 5, {.f = 1, .m = 0});
  CHECK(std::string(agg->name()) == "multi_krum");
  CHECK(agg->aggregate(rows.span(), 1, &out) == std::vector<int>{1, 0, 2, 3});
  CHECK(out == 2.5f);
  // m = 1 is Krum: the single best row.
  CHECK(make_dense_aggregator("multi_krum", 5, {.f = 1, .m = 1})->aggregate(rows.span(), 1, &out) ==
        std::vector<int>{1});
  CHECK(out == 1.0f);
  // m = 3: rows 1, 0, 2 -> 4/3.
  make_dense_aggregator("multi_krum", 5, {.f = 1, .m = 3})->aggregate(rows.span(), 1, &out);
  CHECK(out == static_cast<float>(4.0 / 3.0));
}

TEST_CASE("multi_krum breaks score ties by the lower index", "[krum]") {
  // x = {1, -1, 0, 50, -50}, f = 1, 2 neighbours: scores {5, 5, 2, 4901, 4901}.
  // m = 2 takes row 2, then the tie 5 = 5 goes to row 0 (x = 1): mean 0.5.
  const Rows rows = scalars({1, -1, 0, 50, -50});
  CHECK(krum_scores(rows.span(), 1, 1) == std::vector<double>{5, 5, 2, 4901, 4901});
  float out = 0;
  auto agg = make_dense_aggregator("multi_krum", 5, {.f = 1, .m = 2});
  CHECK(agg->aggregate(rows.span(), 1, &out) == std::vector<int>{2, 0});
  CHECK(out == 0.5f);
  // m = 4: the 4901 tie goes to row 3 (x = 50).
  auto agg4 = make_dense_aggregator("multi_krum", 5, {.f = 1, .m = 4});
  CHECK(agg4->aggregate(rows.span(), 1, &out) == std::vector<int>{2, 0, 1, 3});
  CHECK(out == 12.5f);
}

TEST_CASE("multi_krum with n = 7, f = 2 never selects far outliers", "[krum]") {
  const size_t d = 50;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> noise(-0.1f, 0.1f);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<std::vector<float>> data(7, std::vector<float>(d));
    // Rows 0..4 honest: centre 1 + noise; the two outliers sit at honest
    // positions (to test placement) and collude: identical, +100 away.
    const int bad1 = trial % 7, bad2 = (trial + 3) % 7;
    for (int k = 0; k < 7; ++k)
      for (size_t i = 0; i < d; ++i) data[static_cast<size_t>(k)][i] = 1.0f + noise(rng);
    for (size_t i = 0; i < d; ++i) data[static_cast<size_t>(bad1)][i] = 100.0f + static_cast<float>(i);
    data[static_cast<size_t>(bad2)] = data[static_cast<size_t>(bad1)];
    const Rows rows(data);
    std::vector<float> out(d);
    auto agg = make_dense_aggregator("multi_krum", 7, {.f = 2});
    const std::vector<int> used = sorted(agg->aggregate(rows.span(), d, out.data()));
    std::vector<int> honest;
    for (int k = 0; k < 7; ++k)
      if (k != bad1 && k != bad2) honest.push_back(k);
    REQUIRE(used == honest);  // m = n - f = 5: exactly the honest rows
    for (size_t i = 0; i < d; ++i) {
      double mean = 0;
      for (int k : honest) mean += data[static_cast<size_t>(k)][i];
      CHECK(out[i] == Approx(mean / 5).epsilon(1e-6));
    }
  }
}

TEST_CASE("multi_krum constraint errors name the config keys", "[krum]") {
  using Catch::Matchers::Contains;
  // n = 6, f = 2: 6 > 2*2 + 2 fails.
  CHECK_THROWS_WITH(make_dense_aggregator("multi_krum", 6, {.f = 2}), Contains("aggregation.f"));
  CHECK_THROWS_WITH(make_dense_aggregator("multi_krum", 7, {.f = -1}), Contains("aggregation.f"));
  CHECK_NOTHROW(make_dense_aggregator("multi_krum", 7, {.f = 2}));
  CHECK_THROWS_WITH(make_dense_aggregator("multi_krum", 7, {.f = 2, .m = 8}), Contains("aggregation.m"));
  CHECK_THROWS_WITH(make_dense_aggregator("multi_krum", 7, {.f = 2, .m = -1}), Contains("aggregation.m"));
  CHECK_NOTHROW(make_dense_aggregator("multi_krum", 7, {.f = 2, .m = 7}));
  CHECK_THROWS_WITH(make_dense_aggregator("krum", 7, {}),
                    Contains("'krum'") && Contains("mean, multi_krum, coordinate_median"));
  // Wrong number of rows at aggregate time.
  const Rows rows = scalars({0, 1, 2});
  float out = 0;
  CHECK_THROWS_AS(make_dense_aggregator("mean", 4, {})->aggregate(rows.span(), 1, &out),
                  std::invalid_argument);
}

TEST_CASE("mean averages all rows", "[mean]") {
  const Rows rows({{1, 2, 3}, {3, 2, 1}, {2, 5, -1}});
  std::vector<float> out(3);
  CHECK(make_dense_aggregator("mean", 3, {})->aggregate(rows.span(), 3, out.data()) ==
        std::vector<int>{0, 1, 2});
  CHECK(out == std::vector<float>{2, 3, 1});
}

TEST_CASE("coordinate_median on small exact inputs", "[median]") {
  auto med3 = make_dense_aggregator("coordinate_median", 3, {});
  std::vector<float> out(4);
  const Rows odd({{3, -1, 7, 0}, {1, -5, 7, 2}, {2, 10, -7, 1}});
  CHECK(med3->aggregate(odd.span(), 4, out.data()) == std::vector<int>{0, 1, 2});
  CHECK(out == std::vector<float>{2, -1, 7, 1});

  // Even n: mean of the two middle values.
  auto med4 = make_dense_aggregator("coordinate_median", 4, {});
  const Rows even({{4, 0, 1, 5}, {1, 0, 1, 6}, {3, 9, 2, 7}, {2, -9, 2, 8}});
  med4->aggregate(even.span(), 4, out.data());
  CHECK(out == std::vector<float>{2.5f, 0.0f, 1.5f, 6.5f});

  // One huge outlier among 5 rows moves the median by at most one rank.
  auto med5 = make_dense_aggregator("coordinate_median", 5, {});
  const Rows outlier({{1, 1}, {2, 2}, {3, 3}, {4, 4}, {1e30f, -1e30f}});
  std::vector<float> out2(2);
  med5->aggregate(outlier.span(), 2, out2.data());
  CHECK(out2 == std::vector<float>{3, 2});
}

TEST_CASE("coordinate_median matches a sort reference across blocks", "[median]") {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int n : {1, 2, 5, 8, 24, 25, 33}) {
    const size_t d = 20011;  // several blocks for every n, ragged last block
    std::vector<std::vector<float>> data(static_cast<size_t>(n), std::vector<float>(d));
    for (auto& r : data)
      for (float& x : r) x = normal(rng);
    const Rows rows(data);
    std::vector<float> out(d);
    make_dense_aggregator("coordinate_median", n, {})->aggregate(rows.span(), d, out.data());
    size_t mismatches = 0;
    std::vector<float> col(static_cast<size_t>(n));
    for (size_t i = 0; i < d; ++i) {
      for (size_t k = 0; k < col.size(); ++k) col[k] = data[k][i];
      std::sort(col.begin(), col.end());
      const size_t h = col.size() / 2;
      const float ref = n % 2 ? col[h] : static_cast<float>((double(col[h - 1]) + double(col[h])) / 2);
      mismatches += out[i] != ref;
    }
    INFO("n = " << n);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("a NaN row is an outlier, not undefined behaviour", "[median][krum]") {
  // Median orders NaN last: column {1, 2, NaN, 3, 4} -> 3 (network path, n = 5).
  const float nan = std::nanf("");
  const Rows five = scalars({1, 2, nan, 3, 4});
  float out = 0;
  make_dense_aggregator("coordinate_median", 5, {})->aggregate(five.span(), 1, &out);
  CHECK(out == 3.0f);
  // Selection path (n = 25 > network limit): 0..23 plus NaN -> 12.
  std::vector<float> v(25);
  std::iota(v.begin(), v.end(), 0.0f);
  v[7] = nan;  // values 0..24 without 7, NaN last: middle (13th) is 13
  const Rows many = scalars(v);
  make_dense_aggregator("coordinate_median", 25, {})->aggregate(many.span(), 1, &out);
  CHECK(out == 13.0f);
  // Multi-Krum: NaN distances count as +inf, so the NaN row is never chosen.
  const std::vector<int> used =
      make_dense_aggregator("multi_krum", 5, {.f = 1})->aggregate(five.span(), 1, &out);
  CHECK(std::find(used.begin(), used.end(), 2) == used.end());
  CHECK(out == 2.5f);
}
