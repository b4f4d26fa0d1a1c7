// Internal helpers: deterministic normal sampling and elementwise loops.
#include "common.h"

#ifdef SIGNVOTE_HAVE_DNNL
#include "dnnl_util.h"
#endif
#ifdef SIGNVOTE_NN_CUDA
#include "cuda_context.h"
#endif
#include "signvote/model.h"
#include "util/rng.h"

#include <cmath>
#include <numbers>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace signvote::nn {

std::shared_ptr<DnnlContext> make_dnnl_context() {
#ifdef SIGNVOTE_HAVE_DNNL
  return std::make_shared<DnnlContext>();
#else
  return nullptr;
#endif
}

std::shared_ptr<CudaContext> make_cuda_context(const ModelSpec& spec) {
#ifdef SIGNVOTE_NN_CUDA
  const Layout layout = spec.layout == ModelLayout::nhwc ? Layout::nhwc : Layout::nchw;  // validated by make_model
  return std::make_shared<CudaContext>(spec.device_index, spec.math == ConvMath::tf32, size_t(spec.workspace_mb) << 20,
                                       layout);
#else
  (void)spec;
  throw std::invalid_argument("model device 'cuda': this signvote was built without CUDA");
#endif
}

void fill_normal(std::span<float> out, double stddev, std::mt19937_64& rng) {
  // Box-Muller: u1 in (0, 1], u2 in [0, 1) from the top 53 bits of a draw;
  // each pair of uniforms yields two independent standard normals.
  constexpr double kScale = 1.0 / 9007199254740992.0;  // 2^-53
  for (size_t i = 0; i < out.size(); i += 2) {
    const double u1 = (double(rng() >> 11) + 1.0) * kScale;
    const double u2 = double(rng() >> 11) * kScale;
    double z0 = 0, z1 = 0;
    util::box_muller(u1, u2, stddev, &z0, &z1);
    out[i] = float(z0);
    if (i + 1 < out.size()) out[i + 1] = float(z1);
  }
}

void add_arrays(const float* a, const float* b, float* y, size_t n) {
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void accumulate_array(const float* a, float* y, size_t n) {
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) y[i] += a[i];
}

}  // namespace signvote::nn
