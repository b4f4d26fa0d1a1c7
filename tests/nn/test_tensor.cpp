// Tensor: alignment, layouts, views, copies between layouts.
#include "signvote/tensor.h"

#include "layout_index.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

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

TEST_CASE("nhwc offsets, conversion and the transpose index mapping", "[tensor][nhwc]") {
  const int N = 2, C = 5, H = 3, W = 4, HW = H * W;
  Tensor a({N, C, H, W});
  for (size_t i = 0; i < a.numel(); ++i) a.data()[i] = float(i) + 1.f;
  Tensor b(a.shape(), Layout::nhwc);
  CHECK(std::string(layout_name(Layout::nhwc)) == "nhwc");
  CHECK(b.physical_size() == a.numel());  // no padding
  CHECK(b.elem_stride() == C);            // neighbouring pixels of one channel are C apart
  CHECK(b.offset(1, 3, 2, 1) == ((size_t(1) * H + 2) * W + 1) * C + 3);
  b.copy_from(a);
  CHECK(b.at(1, 3, 2, 1) == a.at(1, 3, 2, 1));
  // The kernels' index functions (layout_index.h) agree with Tensor's
  // offsets both ways and are inverse permutations of [0, numel).
  std::vector<char> hit(a.numel(), 0);
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int h = 0; h < H; ++h)
        for (int w = 0; w < W; ++w) {
          const size_t i = a.offset(n, c, h, w), j = b.offset(n, c, h, w);
          REQUIRE(nhwc_offset_of_nchw(i, C, HW) == j);
          REQUIRE(nchw_offset_of_nhwc(j, C, HW) == i);
          hit[j]++;
        }
  for (char h : hit) REQUIRE(h == 1);
  // The filter case: OIHW (O=4, I=3, 3x3) -> KRSC, element (o, i, r, s) at ((o*3 + r)*3 + s)*I + i.
  CHECK(nhwc_offset_of_nchw(((size_t(2) * 3 + 1) * 3 + 2) * 3 + 0, 3, 9) == ((size_t(2) * 3 + 2) * 3 + 0) * 3 + 1);
  Tensor c(a.shape());
  c.copy_from(b);
  for (size_t i = 0; i < a.numel(); ++i) REQUIRE(c.data()[i] == a.data()[i]);
  Tensor d(a.shape(), Layout::nChw8c), e(a.shape(), Layout::nhwc);  // through a blocked layout
  d.copy_from(b);
  e.copy_from(d);
  for (size_t i = 0; i < a.numel(); ++i) REQUIRE(e.data()[i] == b.data()[i]);
}

TEST_CASE("Tensor views alias external memory", "[tensor]") {
  float buf[8] = {};
  Tensor v = Tensor::view(buf, {1, 2, 2, 2});
  v.at(0, 1, 1, 0) = 3.f;
  CHECK(buf[6] == 3.f);
  CHECK_FALSE(v.empty());
  CHECK(Tensor().empty());
}
