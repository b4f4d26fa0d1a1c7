// CUDA twins of the fp32 baselines' optimizer step (host: worker/optimizer.cpp;
// both use the element rules of kernels/dense_update.h). Device pointers,
// asynchronous on `stream`; launch errors throw (SV_CUDA_CHECK).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "kernels/dense_update.h"

namespace signvote::kernels::cuda {

// x (n,) *= a (the hierarchy's node mean after a sum).
void scale(float* x, std::size_t n, float a, cudaStream_t stream);
// x, m, g (n,): sgd_update per coordinate.
void sgd_step(float* x, float* m, const float* g, std::size_t n, const DenseStep& s, cudaStream_t stream);
// x, m, v, g (n,): adam_update per coordinate.
void adam_step(float* x, float* m, float* v, const float* g, std::size_t n, const DenseStep& s,
               cudaStream_t stream);

}  // namespace signvote::kernels::cuda
