// Helpers of the CUDA twin tests: upload/download, the atol + rtol*|ref|
// comparison, and the ctest skip (exit 77 with "Skipped: <reason>").
#pragma once

#include "signvote/device.h"
#include "signvote/tensor.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace signvote::cuda_test {

// Returns 77 (ctest: skipped) with the reason when no device is visible.
inline int skip_without_device() {
  std::string why;
  if (cuda_device_count(&why) > 0) return 0;
  std::printf("Skipped: no CUDA device visible (%s)\n", why.c_str());
  return 77;
}

inline std::vector<float> download(const float* dev, size_t n) {
  std::vector<float> h(n);
  copy_floats(h.data(), MemSpace::host, dev, MemSpace::cuda, n);
  return h;
}
inline std::vector<float> download(const nn::Tensor& t) { return download(t.data(), t.physical_size()); }

inline nn::Tensor upload(const nn::Tensor& host) {
  nn::Tensor d(host.shape(), nn::Layout::nchw, MemSpace::cuda);
  d.copy_from(host);
  return d;
}

inline nn::Tensor random_tensor(nn::Shape s, std::mt19937_64& rng, float scale = 1.f) {
  std::normal_distribution<float> nd(0.f, scale);
  nn::Tensor t(s);
  for (float& v : t.span()) v = nd(rng);
  return t;
}

// Every |got - ref| <= atol + rtol * |ref|; reports the first offender.
inline void require_close(std::span<const float> got, std::span<const float> ref, double atol, double rtol,
                          const std::string& what) {
  REQUIRE(got.size() == ref.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    if (std::abs(double(got[i]) - ref[i]) > atol + rtol * std::abs(double(ref[i]))) {
      INFO(what << ": element " << i << " cuda " << got[i] << " cpu " << ref[i]);
      REQUIRE(std::abs(double(got[i]) - ref[i]) <= atol + rtol * std::abs(double(ref[i])));
    }
  }
  SUCCEED(what);
}

}  // namespace signvote::cuda_test
