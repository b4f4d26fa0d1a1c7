// Tensor: alignment, layouts, views, copies between layouts.
#include "signvote/tensor.h"

#include <catch2/catch.hpp>

#include <cstdint>

using namespace signvote::nn;

TEST_CASE("Tensor storage is 64-byte aligned and zeroed", "[tensor]") {
  Tensor t({3, 5, 7, 9});
  CHECK(reinterpret_cast<uintptr_t>(t.data()) % 64 == 0);
  CHECK(t.numel() == 945);
  for (float v : t.span()) REQUIRE(v == 0.f);
  Tensor b({2, 20, 3, 3}, Layout::nChw16c);
  CHECK(b.physical_size() == 2u * 32 * 9);  // 20 channels padded to 32
  CHECK(b.elem_stride() == 16);
}

TEST_CASE("nChw16c offsets and layout conversion round-trip", "[tensor]") {
  Tensor a({2, 19, 3, 2});
  for (size_t i = 0; i < a.numel(); ++i) a.data()[i] = float(i);
  Tensor b(a.shape(), Layout::nChw16c);
  b.copy_from(a);
  // (n=1, c=17, h=2, w=1): block 1 of 2, lane 1.
  CHECK(b.offset(1, 17, 2, 1) == ((size_t(1) * 2 + 1) * 3 * 2 + 2 * 2 + 1) * 16 + 1);
  CHECK(b.at(1, 17, 2, 1) == a.at(1, 17, 2, 1));
  // padding lanes stay zero
  CHECK(b.data()[b.offset(0, 18, 0, 0) + 1] == 0.f);
  Tensor c(a.shape());
  c.copy_from(b);
  for (size_t i = 0; i < a.numel(); ++i) REQUIRE(c.data()[i] == a.data()[i]);
  Tensor wrong({2, 18, 3, 2});
  CHECK_THROWS_AS(wrong.copy_from(a), std::invalid_argument);
}

TEST_CASE("nChw8c offsets, padding and conversion through nChw16c", "[tensor]") {
  Tensor a({2, 11, 3, 2});
  for (size_t i = 0; i < a.numel(); ++i) a.data()[i] = float(i) + 1.f;
  Tensor b(a.shape(), Layout::nChw8c);
  CHECK(b.physical_size() == 2u * 16 * 6);  // 11 channels padded to 16
  CHECK(b.elem_stride() == 8);
  b.copy_from(a);
  // (n=1, c=10, h=2, w=1): block 1 of 2, lane 2.
  CHECK(b.offset(1, 10, 2, 1) == ((size_t(1) * 2 + 1) * 3 * 2 + 2 * 2 + 1) * 8 + 2);
  CHECK(b.at(1, 10, 2, 1) == a.at(1, 10, 2, 1));
  CHECK(b.data()[b.offset(0, 10, 0, 0) + 1] == 0.f);  // lane 11: padding
  Tensor c(a.shape(), Layout::nChw16c), d(a.shape());
  c.copy_from(b);
  d.copy_from(c);
  for (size_t i = 0; i < a.numel(); ++i) REQUIRE(d.data()[i] == a.data()[i]);
}

TEST_CASE("Tensor views alias external memory", "[tensor]") {
  float buf[8] = {};
  Tensor v = Tensor::view(buf, {1, 2, 2, 2});
  v.at(0, 1, 1, 0) = 3.f;
  CHECK(buf[6] == 3.f);
  CHECK_FALSE(v.empty());
  CHECK(Tensor().empty());
}
