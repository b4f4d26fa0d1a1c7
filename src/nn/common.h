// Internal helpers shared by the signvote_nn layers: the per-model context
// (thread count, optional oneDNN engine), deterministic initialisation and
// small OpenMP loops.
#pragma once

#include "signvote/tensor.h"

#include <cstddef>
#include <memory>
#include <random>
#include <span>
#include <stdexcept>
#include <string>

namespace signvote::nn {

struct DnnlContext;  // dnnl_util.h; only defined when built with oneDNN
struct CudaContext;  // cuda_context.h; only defined when built with CUDA

// The execution context of one model, chosen when it is built and shared by
// its layers; never global.
struct NnContext {
  int threads = 1;                     // OpenMP/Eigen threads for this model (host work)
  std::shared_ptr<DnnlContext> dnnl;   // non-null when the model uses oneDNN
  MemSpace space = MemSpace::host;     // where parameters and activations live
  std::shared_ptr<CudaContext> cuda;   // non-null for a cuda model
};

// A oneDNN CPU engine + stream; nullptr when built without oneDNN.
std::shared_ptr<DnnlContext> make_dnnl_context();

// The CUDA context of a cuda model: device spec.device_index, math mode
// spec.math, workspace limit spec.workspace_mb, layout spec.layout. Throws std::invalid_argument
// in a build without CUDA and std::runtime_error when no device is visible.
struct ModelSpec;
std::shared_ptr<CudaContext> make_cuda_context(const ModelSpec& spec);

// Fills `out` with N(0, std^2) samples. Normal deviates come from our own
// Box-Muller transform over std::mt19937_64 (std::normal_distribution is
// implementation-defined, so it would not be reproducible across libraries).
void fill_normal(std::span<float> out, double stddev, std::mt19937_64& rng);

// Throws std::invalid_argument(what) when !ok.
inline void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

// y[i] = a[i] + b[i] over n floats, OpenMP-parallel (memory-bound).
void add_arrays(const float* a, const float* b, float* y, size_t n);
// y[i] += a[i].
void accumulate_array(const float* a, float* y, size_t n);

// ReLU's backward select: g where y > 0, else 0. Both values are loaded by
// the caller (passed by value), so the select if-converts and vectorizes at
// the baseline x86-64 ISA; written as `y[i] > 0 ? g[i] : 0` the load of g[i]
// is conditional and GCC emits a branch per element (mispredicted about half
// the time: 6x slower residual blocks in portable builds).
inline float pass_if_positive(float y, float g) { return y > 0.f ? g : 0.f; }

}  // namespace signvote::nn
