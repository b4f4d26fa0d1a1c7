// Element, pooling, bias and loss kernels of the cuda layers (see the header
// for each one's CPU twin). Grid-stride loops; sums in a fixed order so
// results are deterministic run to run.
#include <algorithm>

#include "kernels/cuda_check.h"
#include "nn/layout_index.h"
#include "nn/nn_kernels_cuda.h"

namespace signvote::nn::cuda {
namespace {

constexpr int kBlock = 256;
unsigned grid_for(size_t n) { return static_cast<unsigned>(std::min<size_t>((n + kBlock - 1) / kBlock, 65535)); }
__device__ size_t first_index() { return static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ size_t grid_stride() { return static_cast<size_t>(gridDim.x) * blockDim.x; }

__global__ void relu_fwd(const float* x, float* y, size_t n) {
  for (size_t i = first_index(); i < n; i += grid_stride()) y[i] = x[i] > 0.f ? x[i] : 0.f;
}
__global__ void relu_bwd(const float* y, const float* dy, float* dx, size_t n) {
  for (size_t i = first_index(); i < n; i += grid_stride()) dx[i] = y[i] > 0.f ? dy[i] : 0.f;
}
__global__ void add_fwd(const float* a, const float* b, float* y, size_t n, bool relu) {
  for (size_t i = first_index(); i < n; i += grid_stride()) {
    const float v = a[i] + b[i];
    y[i] = relu ? (v > 0.f ? v : 0.f) : v;
  }
}
__global__ void add_bwd(const float* y, const float* dy, float* d, size_t n, bool acc) {
  for (size_t i = first_index(); i < n; i += grid_stride()) {
    const float g = (y == nullptr || y[i] > 0.f) ? dy[i] : 0.f;
    d[i] = acc ? d[i] + g : g;
  }
}
// One thread per (n, c) plane: sequential sum in index order, as the CPU twin.
__global__ void avgpool_fwd(const float* x, float* y, size_t planes, int hw) {
  for (size_t p = first_index(); p < planes; p += grid_stride()) {
    float sum = 0.f;
    for (int k = 0; k < hw; ++k) sum += x[p * hw + k];
    y[p] = sum * (1.f / float(hw));
  }
}
__global__ void avgpool_bwd(const float* dy, float* dx, size_t planes, int hw) {
  const size_t n = planes * size_t(hw);
  for (size_t i = first_index(); i < n; i += grid_stride()) dx[i] = dy[i / hw] * (1.f / float(hw));
}
// x (n, hw, c): one thread per output (n, c), sequential over the hw pixels;
// neighbouring threads read neighbouring channels (coalesced).
__global__ void avgpool_nhwc_fwd(const float* x, float* y, size_t planes, int c, int hw) {
  for (size_t p = first_index(); p < planes; p += grid_stride()) {
    const float* img = x + p / c * size_t(hw) * c + p % c;
    float sum = 0.f;
    for (int k = 0; k < hw; ++k) sum += img[size_t(k) * c];
    y[p] = sum * (1.f / float(hw));
  }
}
__global__ void avgpool_nhwc_bwd(const float* dy, float* dx, size_t total, int c, int hw) {
  for (size_t j = first_index(); j < total; j += grid_stride())
    dx[j] = dy[j / (size_t(hw) * c) * c + j % c] * (1.f / float(hw));
}
// One thread per destination element: writes coalesced, reads strided.
__global__ void to_nhwc(const float* src, float* dst, size_t total, int c, int hw) {
  for (size_t j = first_index(); j < total; j += grid_stride()) dst[j] = src[nchw_offset_of_nhwc(j, c, hw)];
}
__global__ void to_nchw(const float* src, float* dst, size_t total, int c, int hw, bool acc) {
  for (size_t i = first_index(); i < total; i += grid_stride()) {
    const float v = src[nhwc_offset_of_nchw(i, c, hw)];
    dst[i] = acc ? dst[i] + v : v;
  }
}
__global__ void bias_fwd(float* y, const float* b, int rows, int cols) {
  const size_t n = size_t(rows) * cols;
  for (size_t i = first_index(); i < n; i += grid_stride()) y[i] += b[i % cols];
}
__global__ void bias_bwd(const float* dy, float* db, int rows, int cols) {
  for (size_t c = first_index(); c < size_t(cols); c += grid_stride()) {
    float sum = 0.f;
    for (int r = 0; r < rows; ++r) sum += dy[size_t(r) * cols + c];
    db[c] += sum;
  }
}

// One block per sample; thread 0 does the row (k is the class count, small).
// Same arithmetic as the CPU twin: max, log-sum-exp in double.
__global__ void xent_fwd(const float* z0, const int* labels, int k, float* prob, double* loss,
                         int* correct, int* bad) {
  if (threadIdx.x != 0) return;
  const int i = blockIdx.x;
  const float* z = z0 + size_t(i) * k;
  const int y = labels[i];
  int best = 0;
  for (int j = 1; j < k; ++j)
    if (z[j] > z[best]) best = j;
  double sum = 0.0;
  for (int j = 0; j < k; ++j) sum += exp(double(z[j]) - z[best]);
  const double lse = z[best] + log(sum);
  for (int j = 0; j < k; ++j) prob[size_t(i) * k + j] = float(exp(double(z[j]) - lse));
  const bool ok = y >= 0 && y < k;
  if (!ok) atomicAdd(bad, 1);
  loss[i] = ok ? lse - z[y] : 0.0;
  correct[i] = ok && best == y ? 1 : 0;
}
__global__ void xent_bwd(const float* prob, const int* labels, int n, int k, float* d) {
  const size_t total = size_t(n) * k;
  const float inv_n = 1.f / float(n);
  for (size_t t = first_index(); t < total; t += grid_stride()) {
    const int j = int(t % k);
    d[t] = (prob[t] - (j == labels[t / k] ? 1.f : 0.f)) * inv_n;
  }
}

}  // namespace

#define SV_LAUNCH(kernel, n, s, ...)                                   \
  do {                                                                 \
    if ((n) == 0) return;                                              \
    kernel<<<grid_for(n), kBlock, 0, s>>>(__VA_ARGS__);                \
    SV_CUDA_CHECK(cudaGetLastError());                                 \
  } while (0)

void relu_forward(const float* x, float* y, size_t n, cudaStream_t s) { SV_LAUNCH(relu_fwd, n, s, x, y, n); }
void relu_backward(const float* y, const float* dy, float* dx, size_t n, cudaStream_t s) {
  SV_LAUNCH(relu_bwd, n, s, y, dy, dx, n);
}
void add_forward(const float* a, const float* b, float* y, size_t n, bool relu, cudaStream_t s) {
  SV_LAUNCH(add_fwd, n, s, a, b, y, n, relu);
}
void add_backward(const float* y, const float* dy, float* d, size_t n, bool accumulate, cudaStream_t s) {
  SV_LAUNCH(add_bwd, n, s, y, dy, d, n, accumulate);
}
void avgpool_forward(const float* x, float* y, size_t planes, int hw, cudaStream_t s) {
  SV_LAUNCH(avgpool_fwd, planes, s, x, y, planes, hw);
}
void avgpool_backward(const float* dy, float* dx, size_t planes, int hw, cudaStream_t s) {
  SV_LAUNCH(avgpool_bwd, planes * size_t(hw), s, dy, dx, planes, hw);
}
void avgpool_nhwc_forward(const float* x, float* y, int n, int c, int hw, cudaStream_t s) {
  SV_LAUNCH(avgpool_nhwc_fwd, size_t(n) * c, s, x, y, size_t(n) * c, c, hw);
}
void avgpool_nhwc_backward(const float* dy, float* dx, int n, int c, int hw, cudaStream_t s) {
  SV_LAUNCH(avgpool_nhwc_bwd, size_t(n) * c * hw, s, dy, dx, size_t(n) * c * hw, c, hw);
}
void nchw_to_nhwc(const float* src, float* dst, int n, int c, int hw, cudaStream_t s) {
  SV_LAUNCH(to_nhwc, size_t(n) * c * hw, s, src, dst, size_t(n) * c * hw, c, hw);
}
void nhwc_to_nchw(const float* src, float* dst, int n, int c, int hw, bool accumulate, cudaStream_t s) {
  SV_LAUNCH(to_nchw, size_t(n) * c * hw, s, src, dst, size_t(n) * c * hw, c, hw, accumulate);
}
void bias_forward(float* y, const float* b, int rows, int cols, cudaStream_t s) {
  SV_LAUNCH(bias_fwd, size_t(rows) * cols, s, y, b, rows, cols);
}
void bias_backward(const float* dy, float* db, int rows, int cols, cudaStream_t s) {
  SV_LAUNCH(bias_bwd, size_t(cols), s, dy, db, rows, cols);
}
void softmax_xent_backward(const float* prob, const int* labels, int n, int k, float* dlogits, cudaStream_t s) {
  SV_LAUNCH(xent_bwd, size_t(n) * k, s, prob, labels, n, k, dlogits);
}

void softmax_xent_forward(const float* logits, const int* labels, int n, int k, float* prob, double* loss,
                          int* correct, int* bad, cudaStream_t s) {
  SV_CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof(int), s));
  if (n == 0) return;
  xent_fwd<<<n, 32, 0, s>>>(logits, labels, k, prob, loss, correct, bad);
  SV_CUDA_CHECK(cudaGetLastError());
}

}  // namespace signvote::nn::cuda
