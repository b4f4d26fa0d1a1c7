// util::parallel_slices, the loop the host engine's sign kernels run in:
// every index once, slice bounds on the grain (no packed word shared), an
// exception in any slice reaches the caller; and the sliced momentum_pack +
// apply give the bits and weights of one unsliced call.
#include "signvote/sign_kernels.h"
#include "util/parallel.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <vector>

using signvote::util::parallel_slices;

TEST_CASE("parallel_slices: every index once, bounds on the grain", "[parallel]") {
  for (size_t n : {size_t{0}, size_t{1}, size_t{511}, size_t{512}, size_t{513}, size_t{5000}, size_t{100003}}) {
    for (int threads : {1, 2, 3, 8}) {
      std::vector<std::atomic<int>> seen(n);
      std::mutex mu;
      std::vector<std::pair<size_t, size_t>> slices;
      parallel_slices(n, threads, 512, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) ++seen[i];
        std::lock_guard<std::mutex> lock(mu);
        slices.emplace_back(b, e);
      });
      INFO("n " << n << " threads " << threads);
      for (size_t i = 0; i < n; ++i) REQUIRE(seen[i] == 1);
      CHECK(slices.size() <= static_cast<size_t>(threads));
      for (auto [b, e] : slices) CHECK((b % 512 == 0 && (e % 512 == 0 || e == n)));
    }
  }
}

TEST_CASE("parallel_slices: an exception in a slice reaches the caller", "[parallel]") {
  CHECK_THROWS_WITH(parallel_slices(4096, 4, 512, [](size_t b, size_t) {
                      if (b > 0) throw std::runtime_error("slice failed");
                    }),
                    "slice failed");
}

TEST_CASE("parallel_slices: sliced momentum_pack and apply equal one call", "[parallel]") {
  const auto& ops = signvote::kernels::best_ops();
  const size_t n = 70001;  // not a multiple of 32: the last word is partial
  std::vector<float> g(n), m1(n), x1(n), m3, x3;
  for (size_t i = 0; i < n; ++i) g[i] = float(int(i * 2654435761u % 2001) - 1000) / 1000.f, m1[i] = -g[i] / 3, x1[i] = 1;
  g[777] = std::numeric_limits<float>::quiet_NaN();
  m3 = m1, x3 = x1;
  const size_t words = (n + 31) / 32;
  std::vector<uint32_t> b1(words + 16), b3(words + 16);
  const size_t nan1 = ops.momentum_pack(m1.data(), g.data(), n, 0.9f, b1.data());
  std::atomic<size_t> nan3{0};
  parallel_slices(n, 3, 512, [&](size_t b, size_t e) {
    nan3 += ops.momentum_pack(m3.data() + b, g.data() + b, e - b, 0.9f, b3.data() + b / 32);
  });
  CHECK(nan1 == 1);
  CHECK(nan3 == nan1);
  CHECK(std::vector<uint32_t>(b1.begin(), b1.begin() + words) == std::vector<uint32_t>(b3.begin(), b3.begin() + words));
  CHECK(std::memcmp(m1.data(), m3.data(), n * sizeof(float)) == 0);  // bitwise: m[777] is NaN in both
  ops.apply(x1.data(), n, b1.data(), 0.01f, 0.1f);
  parallel_slices(n, 3, 512, [&](size_t b, size_t e) { ops.apply(x3.data() + b, e - b, b3.data() + b / 32, 0.01f, 0.1f); });
  CHECK(std::memcmp(x1.data(), x3.data(), n * sizeof(float)) == 0);
}
