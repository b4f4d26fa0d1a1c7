// GradientMoments: the per-layer SNR of src/worker/probes.h against values
// worked out by hand.
#include <catch2/catch.hpp>

#include <vector>

#include "worker/probes.h"

using signvote::worker::GradientMoments;
using signvote::worker::ParamSlice;

TEST_CASE("probe SNR of four batch gradients matches the closed form", "[probes]") {
  // Layer "a" = coordinates 0..1, layer "b" = coordinate 2.
  // a: g_b = (1,2) (3,2) (1,4) (3,4): gbar = (2,3), mean_sq = 13; each
  //    coordinate has sample variance 4/3, so noise = 8/3;
  //    signal = 13 - (8/3)/4 = 37/3; snr = 37/8.
  // b: constant 5: noise 0 -> snr reported as 0, mean_sq 25.
  GradientMoments m(3, {ParamSlice{"a", 0, 2}, ParamSlice{"b", 2, 1}});
  const std::vector<std::vector<float>> g = {{1, 2, 5}, {3, 2, 5}, {1, 4, 5}, {3, 4, 5}};
  for (const auto& v : g) m.add(v);
  REQUIRE(m.batches() == 4);
  const auto r = m.result();
  REQUIRE(r.size() == 2);
  CHECK(r[0].mean_sq == Approx(13.0));
  CHECK(r[0].noise == Approx(8.0 / 3));
  CHECK(r[0].signal == Approx(37.0 / 3));
  CHECK(r[0].snr == Approx(37.0 / 8));
  CHECK(r[1].mean_sq == Approx(25.0));
  CHECK(r[1].noise == 0.0);
  CHECK(r[1].snr == 0.0);
}

TEST_CASE("probe moments from two workers add up to those of one", "[probes]") {
  // What the MPI_Reduce in Prober::pass relies on: sums are element-wise.
  const std::vector<ParamSlice> layers = {{"w", 0, 3}};
  const std::vector<std::vector<float>> g = {{1, -2, 0.5f}, {0, 1, 2}, {-3, 1, 1}, {2, 2, -1}, {0.5f, 0, 0}};
  GradientMoments whole(3, layers), w0(3, layers), w1(3, layers);
  for (size_t b = 0; b < g.size(); ++b) {
    whole.add(g[b]);
    (b < 2 ? w0 : w1).add(g[b]);
  }
  for (size_t i = 0; i < 3; ++i) w0.sum()[i] += w1.sum()[i];
  w0.sq_norms()[0] += w1.sq_norms()[0];
  w0.batch_count()[0] += w1.batch_count()[0];
  CHECK(w0.result()[0].snr == Approx(whole.result()[0].snr));
  CHECK(w0.result()[0].noise == Approx(whole.result()[0].noise));
  CHECK(whole.result()[0].noise > 0);
}
