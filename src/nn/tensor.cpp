// Tensor storage and layout arithmetic (see include/signvote/tensor.h).
#include "signvote/tensor.h"

#include "device_memory.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace signvote::nn {

const char* layout_name(Layout l) {
  return l == Layout::nChw16c ? "nChw16c" : l == Layout::nChw8c ? "nChw8c" : l == Layout::nhwc ? "nhwc" : "nchw";
}

std::string to_string(const Shape& s) {
  // Appended piecewise: GCC 12 raises a false -Wrestrict on "(" + std::string&&.
  std::string r = "(";
  for (int v : {s.n, s.c, s.h, s.w}) {
    if (r.size() > 1) r += ',';
    r += std::to_string(v);
  }
  r += ')';
  return r;
}

size_t Tensor::physical_size(const Shape& s, Layout l) {
  const size_t b = size_t(block_size(l));
  const size_t cp = (size_t(s.c) + b - 1) / b * b;
  return size_t(s.n) * cp * s.h * s.w;
}

void Tensor::DeviceFree::operator()(float* p) const { device_free(p); }

Tensor::Tensor(Shape s, Layout l, MemSpace space) : space_(space), shape_(s), layout_(l) {
  if (s.n < 0 || s.c < 0 || s.h < 0 || s.w < 0)
    throw std::invalid_argument("Tensor: negative dimension in " + to_string(s));
  if (space == MemSpace::cuda && l != Layout::nchw && l != Layout::nhwc)
    throw std::invalid_argument(std::string("Tensor: cuda tensors are nchw or nhwc, not ") + layout_name(l));
  if (space == MemSpace::host) {
    owned_ = AlignedBuffer(physical_size(s, l));
    data_ = owned_.data();
  } else {
    device_owned_.reset(device_alloc_floats(physical_size(s, l)));
    data_ = device_owned_.get();
    device_zero(data_, physical_size(s, l));
  }
}

Tensor Tensor::view(float* data, Shape s, Layout l, MemSpace space) {
  Tensor t;
  t.data_ = data;
  t.shape_ = s;
  t.layout_ = l;
  t.space_ = space;
  return t;
}

size_t Tensor::plane_offset(int n, int c) const {
  const size_t hw = size_t(shape_.h) * shape_.w;
  if (layout_ == Layout::nhwc) return size_t(n) * hw * shape_.c + c;  // (n, 0, 0, c)
  const int b = block_size(layout_);
  if (b == 1) return (size_t(n) * shape_.c + c) * hw;
  const size_t cb = (size_t(shape_.c) + b - 1) / b;
  return ((size_t(n) * cb + c / b) * hw) * b + c % b;
}

void Tensor::fill(float v) {
  if (space_ == MemSpace::cuda) {
    if (v != 0.f) throw std::logic_error("Tensor::fill: non-zero fill of a cuda tensor");
    device_zero(data_, physical_size());
    return;
  }
  std::fill_n(data_, physical_size(), v);
}

void Tensor::zero() { fill(0.f); }

void Tensor::copy_from(const Tensor& src) {
  if (!(src.shape() == shape_))
    throw std::invalid_argument("Tensor::copy_from: shape " + to_string(src.shape()) +
                                " != " + to_string(shape_));
  if (src.layout() == layout_) {
    copy_floats(data_, space_, src.data(), src.space(), physical_size());
    return;
  }
  if (space_ != MemSpace::host || src.space() != MemSpace::host)
    throw std::invalid_argument("Tensor::copy_from: layouts differ across memory spaces");
  if (layout_ != Layout::nchw) zero();  // keep the channel padding at zero
  const int hw = shape_.h * shape_.w;
  for (int n = 0; n < shape_.n; ++n)
    for (int c = 0; c < shape_.c; ++c) {
      const float* s = src.data() + src.plane_offset(n, c);
      float* d = data_ + plane_offset(n, c);
      const int ss = src.elem_stride(), ds = elem_stride();
      for (int i = 0; i < hw; ++i) d[size_t(i) * ds] = s[size_t(i) * ss];
    }
}

}  // namespace signvote::nn
