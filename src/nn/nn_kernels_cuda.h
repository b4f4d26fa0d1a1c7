// CUDA kernels of the cuda layers that cuDNN/cuBLAS do not cover. Device
// pointers, NCHW unless the name says nhwc, asynchronous on `stream`;
// launch errors throw. The CPU
// twin of each is the CPU layer named in its comment (tests compare them).
// Plain header: usable from .cpp files compiled by the host compiler.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

namespace signvote::nn::cuda {

// ReLU (relu.cpp): y = max(x, 0); dx = y > 0 ? dy : 0 (in place allowed).
void relu_forward(const float* x, float* y, size_t n, cudaStream_t s);
void relu_backward(const float* y, const float* dy, float* dx, size_t n, cudaStream_t s);
// Residual add (add.cpp): y = a + b, or max(a + b, 0) with relu.
void add_forward(const float* a, const float* b, float* y, size_t n, bool relu, cudaStream_t s);
// d = dy * (y > 0) (or d += ... with accumulate); y == nullptr: no mask.
void add_backward(const float* y, const float* dy, float* d, size_t n, bool accumulate, cudaStream_t s);
// GlobalAvgPool (avgpool.cpp): x (N*C planes of hw) -> y (N*C,) means; and back.
void avgpool_forward(const float* x, float* y, size_t planes, int hw, cudaStream_t s);
void avgpool_backward(const float* dy, float* dx, size_t planes, int hw, cudaStream_t s);
// The same for x, dx (N, H, W, C) NHWC; y, dy (N, C): one thread per (n, c),
// summing its hw pixels in the same order as the CPU twin (bit-identical).
void avgpool_nhwc_forward(const float* x, float* y, int n, int c, int hw, cudaStream_t s);
void avgpool_nhwc_backward(const float* dy, float* dx, int n, int c, int hw, cudaStream_t s);
// Layout transposes (layout_index.h) of n images of c channels by hw pixels:
// dst (n, hw, c) = src (n, c, hw); and dst (n, c, hw) = src (n, hw, c), or
// dst += src with accumulate. Used for the image upload, flatten of nhwc
// activations and the conv filters (OIHW <-> KRSC with n = O, c = I, hw = kh*kw).
void nchw_to_nhwc(const float* src, float* dst, int n, int c, int hw, cudaStream_t s);
void nhwc_to_nchw(const float* src, float* dst, int n, int c, int hw, bool accumulate, cudaStream_t s);
// Linear bias (linear.cpp): y (rows, cols) += b (cols,) per row;
// db (cols,) += column sums of dy (rows, cols) (fixed order: deterministic).
void bias_forward(float* y, const float* b, int rows, int cols, cudaStream_t s);
void bias_backward(const float* dy, float* db, int rows, int cols, cudaStream_t s);
// Softmax cross-entropy (softmax_xent.cpp), one thread block per row of
// logits (n, k): prob (n, k) = softmax, loss (n,) per-sample loss in double
// precision as the CPU twin, correct (n,) = argmax == label, bad (1,) counts
// labels outside [0, k). backward: dlogits = (prob - onehot) / n.
void softmax_xent_forward(const float* logits, const int* labels, int n, int k, float* prob,
                          double* loss, int* correct, int* bad, cudaStream_t s);
void softmax_xent_backward(const float* prob, const int* labels, int n, int k, float* dlogits,
                           cudaStream_t s);

}  // namespace signvote::nn::cuda
