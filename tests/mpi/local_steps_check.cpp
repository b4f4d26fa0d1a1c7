// local_steps_check vote|mean|allreduce CHECKPOINT: one outer round of local steps on
// the toy quadratic, recomputed here from the workers' seeds and compared
// bit for bit with the checkpoint the run (1 round: run.steps = H) wrote.
//
// Each worker k replays its H inner steps of SGD (inner.momentum = 0,
// inner.weight_decay = 0) on its own gradient stream (the toy's: g = x + s n):
//   x_{t+1} = x_t - lr_in g_t,   Delta_k = x_start - x_H   (d,)
// vote (optimizer.name signum, beta = 1/2 so that the momentum is exact):
//   m_k  = (1 - beta) Delta_k            == checkpoint momentum.k
//   vote = +1 iff 2 #{k: m_k >= 0} > W; a tie (= W) +1 iff i + r is even,
//   r = H / H = 1 the round's index (ties alternate by round, sign_layout.h)
//   x    = x_start - lr (vote + wd x_start)   == checkpoint params
// mean (DiLoCo: optimizer.name sgd, nesterov, momentum mu):
//   D = (1/W) sum_k Delta_k (double sums, as the server's mean)
//   b = D                                == checkpoint momentum.k, every k
//   x = x_start - lr (D + mu b)          == checkpoint params
// allreduce: the same as mean over MPI's fp32 all-reduce, whose order of
// summation is MPI's: equal within 4 ulps of the values (float sums of 4-5
// terms), not bit for bit.
// lr, lr_in, wd and mu are powers of two in the tests, so every product is
// exact and the sums are the only roundings: any correct order gives them.
#include "config/run_plan.h"
#include "formats/checkpoint.h"
#include "worker/checkpointing.h"
#include "worker/problem.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace signvote;

namespace {

int g_bad = 0;
float g_ulps = 0;  // allowed difference in units of 2^-23 |want| (0: bit for bit)

void expect_equal(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  if (got.size() != want.size()) {
    fmt::print(stderr, "{}: {} values, {} expected\n", what, got.size(), want.size());
    ++g_bad;
    return;
  }
  size_t wrong = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] == want[i] || std::abs(got[i] - want[i]) <= g_ulps * 0x1p-23f * std::abs(want[i])) continue;
    if (wrong++ < 3) fmt::print(stderr, "{}[{}] = {:.9g}, closed form {:.9g}\n", what, i, got[i], want[i]);
  }
  if (wrong) fmt::print(stderr, "{}: {} of {} coordinates differ\n", what, wrong, got.size()), ++g_bad;
}

// Worker k's pseudo-gradient after H inner SGD steps from the toy's start.
std::vector<float> pseudo_gradient(const Config& cfg, int k, int W) {
  auto p = worker::make_problem(cfg, k, W);
  std::vector<float> x(p->params().begin(), p->params().end());
  const std::vector<float> start = x;
  const float lr = static_cast<float>(cfg.inner.lr);
  for (uint64_t t = 1; t <= round_steps(cfg); ++t) {
    std::copy(x.begin(), x.end(), p->params().begin());
    p->compute(t);
    const auto g = p->grads();
    for (size_t i = 0; i < x.size(); ++i) x[i] = x[i] - lr * g[i];
  }
  for (size_t i = 0; i < x.size(); ++i) x[i] = start[i] - x[i];
  return x;
}

void check(const std::string& mode, const data::Checkpoint& c) {
  const Config cfg = parse_config(c.blobs.at("config"), "the checkpoint's config");
  const int W = static_cast<int>(cfg.cluster.workers);
  const size_t d = static_cast<size_t>(cfg.model.dim);
  const float x0 = static_cast<float>(cfg.model.init), lr = static_cast<float>(cfg.optimizer.lr);
  std::vector<std::vector<float>> delta;
  for (int k = 0; k < W; ++k) delta.push_back(pseudo_gradient(cfg, k, W));
  std::vector<float> x(d), b(d);
  if (mode == "vote") {
    const float beta = static_cast<float>(cfg.optimizer.momentum), wd = static_cast<float>(cfg.optimizer.weight_decay);
    std::vector<int> plus(d, 0);
    for (int k = 0; k < W; ++k) {
      std::vector<float> m(d);
      for (size_t i = 0; i < d; ++i) m[i] = (1.0f - beta) * delta[k][i], plus[i] += m[i] >= 0.0f;
      expect_equal(c.arrays.at(fmt::format("momentum.{}", k)), m, fmt::format("momentum.{}", k));
    }
    const uint64_t r = c.scalars.at("step") / round_steps(cfg);  // the round's index
    for (size_t i = 0; i < d; ++i) {
      const bool up = 2 * plus[i] > W || (2 * plus[i] == W && (i + r) % 2 == 0);
      x[i] = x0 - lr * ((up ? 1.0f : -1.0f) + wd * x0);
    }
  } else {
    const float mu = static_cast<float>(cfg.optimizer.momentum);
    for (size_t i = 0; i < d; ++i) {
      double sum = 0;
      for (int k = 0; k < W; ++k) sum += delta[k][i];
      b[i] = static_cast<float>(sum * (1.0 / W));
      x[i] = x0 - lr * (b[i] + mu * b[i]);
    }
    for (int k = 0; k < W; ++k) expect_equal(c.arrays.at(fmt::format("momentum.{}", k)), b, fmt::format("momentum.{}", k));
  }
  expect_equal(c.arrays.at("params"), x, "params");
  if (c.scalars.at("step") != round_steps(cfg)) fmt::print(stderr, "step {} != H\n", c.scalars.at("step")), ++g_bad;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[1] : "";
  if (mode != "vote" && mode != "mean" && mode != "allreduce") {
    std::fprintf(stderr, "usage: local_steps_check vote|mean|allreduce CHECKPOINT\n");
    return 2;
  }
  if (mode == "allreduce") g_ulps = 4;
  try {
    check(mode, data::read_checkpoint_with_parts(worker::resolve_checkpoint(argv[2])));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "local_steps_check: %s\n", e.what());
    return 1;
  }
  std::printf("%s\n", g_bad ? "FAIL: the round differs from its closed form"
                       : g_ulps ? "PASS: one outer round matches its closed form within 4 ulps (MPI's fp32 sum)"
                                : "PASS: one outer round matches its closed form bit for bit");
  return g_bad ? 1 : 0;
}
