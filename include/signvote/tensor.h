// signvote::nn tensors: 4-D float tensors (N, C, H, W) over contiguous,
// 64-byte-aligned buffers. A 2-D activation (batch, features) is stored as
// (N, F, 1, 1). A Tensor either owns its storage (AlignedBuffer, RAII) or is
// a non-owning view (e.g. a layer's weight inside the model's flat buffer).
//
// Physical layouts:
//   Layout::nchw      element (n,c,h,w) at ((n*C + c)*H + h)*W + w
//   Layout::nChw16c   oneDNN's blocked layouts with B = 16 (AVX-512 CPUs) or
//   Layout::nChw8c    B = 8 (AVX2 and older): C is padded to Cp = ceil(C/B)*B
//                     and element (n,c,h,w) is at
//                     (((n*Cp/B + c/B)*H + h)*W + w)*B + c%B.
//                     Padding channels are kept at zero.
//   Layout::nhwc      element (n,c,h,w) at ((n*H + h)*W + w)*C + c (channels
//                     last, as PyTorch's channels_last): cuda models with
//                     model.layout: nhwc; host tensors only as conversion
//                     targets (copy_from) -- the CPU layers are nchw/blocked.
// The oneDNN convolution picks the block that its kernels use on the CPU it
// runs on (DnnlContext::blocked); a mismatched block sends oneDNN to its slow
// reference kernels.
// Memory space: a Tensor lives in host memory (CPU layers) or on the CUDA
// device its model was built on (MemSpace::cuda, nchw or nhwc). Element access
// (at(), fill() with v != 0, span() reads) is host-only; copy_from() is the
// one way across spaces.
// All layouts share one property used by the channel-wise layers: the H*W
// elements of one (n, c) plane start at plane_offset(n, c) and are spaced
// elem_stride() floats apart: B for the blocked layouts, 1 for nchw, C for
// nhwc.
#pragma once

#include "signvote/aligned_buffer.h"
#include "signvote/device.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace signvote::nn {

// Owning, 64-byte-aligned float storage, zero-initialised, move-only
// (the one aligned buffer of the project, include/signvote/aligned_buffer.h).
using AlignedBuffer = signvote::AlignedBuffer<float>;

enum class Layout : uint8_t { nchw, nChw16c, nChw8c, nhwc };
const char* layout_name(Layout l);
// Channel block B: 16 or 8; 1 for the unpadded nchw and nhwc.
constexpr int block_size(Layout l) { return l == Layout::nChw16c ? 16 : l == Layout::nChw8c ? 8 : 1; }

struct Shape {
  int n = 0, c = 0, h = 1, w = 1;
  size_t numel() const { return size_t(n) * c * h * w; }
  bool operator==(const Shape&) const = default;
};
std::string to_string(const Shape& s);

class Tensor {
 public:
  Tensor() = default;
  // Owning tensor, zero-filled, in host memory or on the current CUDA device.
  explicit Tensor(Shape s, Layout l = Layout::nchw, MemSpace space = MemSpace::host);
  // Non-owning view of `data` (must hold physical_size(s, l) floats of `space`).
  static Tensor view(float* data, Shape s, Layout l = Layout::nchw, MemSpace space = MemSpace::host);

  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  const Shape& shape() const { return shape_; }
  Layout layout() const { return layout_; }
  MemSpace space() const { return space_; }
  int n() const { return shape_.n; }
  int c() const { return shape_.c; }
  int h() const { return shape_.h; }
  int w() const { return shape_.w; }
  bool empty() const { return data_ == nullptr; }
  // Logical element count N*C*H*W.
  size_t numel() const { return shape_.numel(); }
  // Floats in the buffer (includes the blocked layouts' channel padding).
  size_t physical_size() const { return physical_size(shape_, layout_); }
  static size_t physical_size(const Shape& s, Layout l);

  float* data() { return data_; }
  const float* data() const { return data_; }
  std::span<float> span() { return {data_, physical_size()}; }
  std::span<const float> span() const { return {data_, physical_size()}; }

  // Start of the (n, c) plane and the spacing of its H*W elements.
  size_t plane_offset(int n, int c) const;
  int elem_stride() const { return layout_ == Layout::nhwc ? shape_.c : block_size(layout_); }
  // Offset of logical element (n, c, h, w) in data().
  size_t offset(int n, int c, int h, int w) const {
    return plane_offset(n, c) + size_t(h * shape_.w + w) * elem_stride();
  }
  float& at(int n, int c, int h, int w) { return data_[offset(n, c, h, w)]; }
  float at(int n, int c, int h, int w) const { return data_[offset(n, c, h, w)]; }

  // fill(v): host tensors only (v = 0 works in both spaces).
  void fill(float v);
  void zero();
  // Copies the logical contents of `src` (same shape) into *this. Host to
  // host converts layouts; across spaces both must share one layout (a
  // synchronous copy of the physical buffer).
  void copy_from(const Tensor& src);

 private:
  struct DeviceFree {
    void operator()(float* p) const;
  };
  AlignedBuffer owned_;
  std::unique_ptr<float, DeviceFree> device_owned_;
  MemSpace space_ = MemSpace::host;
  float* data_ = nullptr;
  Shape shape_{};
  Layout layout_ = Layout::nchw;
};

}  // namespace signvote::nn
