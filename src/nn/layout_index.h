// Index arithmetic of the NCHW <-> NHWC transposes: the device kernels
// (nn_kernels_cuda.cu) and the host tests (tests/nn/test_tensor.cpp) share
// these functions, so the mapping the GPU uses is checked on the CPU.
// A 4-D tensor (N, C, H, W) is seen as N images of C channels by hw = H*W
// pixels; the filter of a convolution (O, I, kh, kw) is the same problem
// with N = O, C = I, hw = kh*kw (OIHW <-> OHWI, cuDNN's "KRSC").
#pragma once

#include <cstddef>

#ifdef __CUDACC__
#define SV_HOST_DEVICE __host__ __device__
#else
#define SV_HOST_DEVICE
#endif

namespace signvote::nn {

// NCHW offset i = (n*C + c)*hw + p  ->  NHWC offset (n*hw + p)*C + c.
SV_HOST_DEVICE inline size_t nhwc_offset_of_nchw(size_t i, size_t c, size_t hw) {
  const size_t p = i % hw, nc = i / hw;
  return (nc / c * hw + p) * c + nc % c;
}

// NHWC offset j = (n*hw + p)*C + c  ->  NCHW offset (n*C + c)*hw + p.
SV_HOST_DEVICE inline size_t nchw_offset_of_nhwc(size_t j, size_t c, size_t hw) {
  const size_t ch = j % c, np = j / c;
  return (np / hw * c + ch) * hw + np % hw;
}

}  // namespace signvote::nn
