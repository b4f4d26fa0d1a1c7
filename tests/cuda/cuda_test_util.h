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

// A host tensor (any layout) on the device in layout `l` (converted on the host).
inline nn::Tensor upload(const nn::Tensor& host, nn::Layout l) {
  nn::Tensor h(host.shape(), l);
  h.copy_from(host);
  nn::Tensor d(host.shape(), l, MemSpace::cuda);
  d.copy_from(h);
  return d;
}

// The logical contents of a tensor (either space, nchw or nhwc) in NCHW order.
inline std::vector<float> nchw_values(const nn::Tensor& t) {
  nn::Tensor same(t.shape(), t.layout());
  same.copy_from(t);  // across spaces: same layout
  nn::Tensor n(t.shape());
  n.copy_from(same);  // host: layout conversion
  return std::vector<float>(n.span().begin(), n.span().end());
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
