// Tensor storage and layout arithmetic (see include/signvote/tensor.h).
#include "signvote/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace signvote::nn {

const char* layout_name(Layout l) {
  return l == Layout::nChw16c ? "nChw16c" : l == Layout::nChw8c ? "nChw8c" : "nchw";
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

Tensor::Tensor(Shape s, Layout l)
    : owned_(physical_size(s, l)), data_(owned_.data()), shape_(s), layout_(l) {
  if (s.n < 0 || s.c < 0 || s.h < 0 || s.w < 0)
    throw std::invalid_argument("Tensor: negative dimension in " + to_string(s));
}

Tensor Tensor::view(float* data, Shape s, Layout l) {
  Tensor t;
  t.data_ = data;
  t.shape_ = s;
  t.layout_ = l;
  return t;
}

size_t Tensor::plane_offset(int n, int c) const {
  const size_t hw = size_t(shape_.h) * shape_.w;
  const int b = block_size(layout_);
  if (b == 1) return (size_t(n) * shape_.c + c) * hw;
  const size_t cb = (size_t(shape_.c) + b - 1) / b;
  return ((size_t(n) * cb + c / b) * hw) * b + c % b;
}

void Tensor::fill(float v) { std::fill_n(data_, physical_size(), v); }

void Tensor::copy_from(const Tensor& src) {
  if (!(src.shape() == shape_))
    throw std::invalid_argument("Tensor::copy_from: shape " + to_string(src.shape()) +
                                " != " + to_string(shape_));
  if (src.layout() == layout_) {
    std::copy_n(src.data(), physical_size(), data_);
    return;
  }
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
