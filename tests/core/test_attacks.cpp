// The server-simulated attacks (src/server/attacks.h) on hand-built rounds.
#include "server/aggregation.h"
#include "server/attacks.h"
#include "signvote/config.h"
#include "signvote/sign_kernels.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace signvote;

namespace {

// W packed rows of n coordinates from votes[k][i] (true = +1), stride words.
std::vector<uint32_t> pack_rows(const std::vector<std::vector<bool>>& votes, size_t stride) {
  std::vector<uint32_t> rows(votes.size() * stride, 0u);
  for (size_t k = 0; k < votes.size(); ++k)
    for (size_t i = 0; i < votes[k].size(); ++i)
      if (votes[k][i]) rows[k * stride + i / 32] |= 1u << (i % 32);
  return rows;
}

Config dense_config(const std::string& method, const std::string& mode, int workers, int f) {
  return parse_config("cluster: {workers: " + std::to_string(workers) + "}\noptimizer: {name: sgd}\naggregation: {method: " +
                          method + "}\nadversary: {count: " + std::to_string(f) + ", mode: " + mode + ", scale: 2}\n",
                      "t.yaml");
}

}  // namespace

TEST_CASE("attacks: colluders flip exactly the coordinates whose honest margin is at most f", "[attacks]") {
  // 3 honest workers (rows 0, 2, 4) and f = 2 colluders (rows 1, 3), whose
  // own votes are ignored. Coordinates: honest sums S = +3, +1, -1, -3, and
  // +1 again with the colluders' own votes all +1.
  const std::vector<bool> h0 = {1, 1, 0, 0, 1}, h1 = {1, 0, 1, 0, 0}, h2 = {1, 1, 0, 0, 1};
  const std::vector<bool> own = {1, 1, 1, 1, 1};
  const size_t stride = 16;
  const auto rows = pack_rows({h0, own, h1, own, h2}, stride);
  const auto vote = server::colluding_vote(kernels::best_ops(), {0, 1, 0, 1, 0});
  std::vector<uint32_t> out(stride, 0u);
  vote(rows.data(), 5, stride, comm::Range{0, 5}, out.data(), kernels::tie_word(1));
  // |S| = 3 > f holds (+, -); |S| = 1 <= f flips (+1 -> -1, -1 -> +1).
  CHECK((out[0] & 0x1Fu) == 0b00101u);  // coordinates 0..4 (bit i): +, -, +, -, -
  CHECK((out[0] >> 5) == 0u);           // tail bits stay 0
  // The plain vote of the same rows: the colluders' own +1 votes counted.
  std::vector<uint32_t> plain(stride, 0u);
  server::majority_vote(kernels::best_ops())(rows.data(), 5, stride, comm::Range{0, 5}, plain.data(), kernels::tie_word(1));
  CHECK((plain[0] & 0x1Fu) == 0b10111u);
}

TEST_CASE("attacks: ALIE sends mu - z sigma, IPM -eps mean, in place of the adversaries' rows", "[attacks]") {
  // n = 5 workers, f = 2 adversaries (workers 0 and 1): s = floor(5/2 + 1) - 2
  // = 1, z = Phi^-1((5 - 2 - 1) / 3) = Phi^-1(2/3) = 0.4307273.
  CHECK(server::alie_z(5, 2) == Approx(0.4307273).epsilon(1e-6));
  CHECK(server::normal_quantile(0.975) == Approx(1.959964).epsilon(1e-6));
  CHECK_THROWS_WITH(server::alie_z(5, 3), Catch::Contains("s = 0"));
  // 2 coordinates; honest rows 1, 2, 6 and 0, 0, 3: mu = 3, 1; sigma =
  // sqrt(14/3), sqrt(2). The adversaries' own rows (99) are ignored.
  const size_t d = 2, stride = 16;
  std::vector<float> rows(5 * stride, 0.f);
  const float values[5][2] = {{99, 99}, {99, 99}, {1, 0}, {2, 0}, {6, 3}};
  for (size_t k = 0; k < 5; ++k)
    for (size_t i = 0; i < d; ++i) rows[k * stride + i] = values[k][i];
  const auto* words = reinterpret_cast<const uint32_t*>(rows.data());
  std::vector<float> out(stride, 0.f);
  auto run = [&](const std::string& mode) {
    const Config cfg = dense_config("mean", mode, 5, 2);
    server::make_aggregate(cfg, 5, d, kernels::best_ops())(words, 5, stride, comm::Range{0, d},
                                                           reinterpret_cast<uint32_t*>(out.data()), kernels::tie_word(1));
  };
  const double z = server::alie_z(5, 2), s0 = std::sqrt(14.0 / 3.0), s1 = std::sqrt(2.0);
  run("alie");  // mean of 3 honest + 2 forged rows
  CHECK(out[0] == Approx((9 + 2 * (3 - z * s0)) / 5).epsilon(1e-5));
  CHECK(out[1] == Approx((3 + 2 * (1 - z * s1)) / 5).epsilon(1e-5));
  run("ipm");  // eps = adversary.scale = 2
  CHECK(out[0] == Approx((9 + 2 * (-2 * 3.0)) / 5).epsilon(1e-5));
  CHECK(out[1] == Approx((3 + 2 * (-2 * 1.0)) / 5).epsilon(1e-5));
}

TEST_CASE("attacks: each mode is refused where it cannot act, naming the key", "[attacks]") {
  CHECK_THROWS_WITH(parse_config("cluster: {workers: 5}\nadversary: {count: 2, mode: alie}\n", "t.yaml"),
                    Catch::Contains("'adversary.mode' = alie attacks a dense"));
  CHECK_THROWS_WITH(parse_config("cluster: {workers: 5}\nadversary: {count: 2, mode: collude}\naggregation: {method: mean}\noptimizer: {name: sgd}\n", "t.yaml"),
                    Catch::Contains("needs aggregation.method = majority_vote"));
  CHECK_THROWS_WITH(dense_config("mean", "alie", 5, 3), Catch::Contains("s = floor(n/2 + 1) - f >= 1"));
  CHECK_THROWS_WITH(dense_config("mean", "alie", 2, 1), Catch::Contains("at least 3 workers"));
}
