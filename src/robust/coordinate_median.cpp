// Coordinate-wise median: out[i] = median over workers of rows[k][i] (even n:
// mean of the two middle values, in double). Coordinates are processed in
// blocks of B so the scratch stays in cache; two strategies:
//
//  n <= kNetworkMax  copy the block of each row into scratch (n, B) and sort
//                    every column at once with an odd-even transposition
//                    network: each compare-exchange is a branch-free min/max
//                    over B contiguous floats, which GCC vectorises. The
//                    columns of 7 workers have random order, so a per-column
//                    sort mispredicts constantly (n = 7, d = 11.2M: 1.3-1.6 s
//                    with nth_element or insertion sort, see docs/robust.md).
//  n >  kNetworkMax  transpose the block into (B, n) and std::nth_element each
//                    contiguous column of n values (network cost grows n^2).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "signvote/aligned_buffer.h"
#include "robust/dense_impl.h"
#include "signvote/aggregator.h"

namespace signvote::robust {
namespace {

constexpr size_t kMedianBufferFloats = 16384;  // scratch per block: 64 KiB
constexpr size_t kNetworkMax = 24;             // n^2/2 compare-exchanges per column

// Strict weak order with NaN last (NaNs compare equal to each other): keeps
// sorting well defined when a (faulty) worker sends NaN; a minority of NaN
// rows then behaves like huge outliers. (b != b) is isnan(b), vectorisable.
inline bool less_nan_last(float a, float b) { return a < b || (b != b && a == a); }

float mid_value(float lo, float hi) {
  return static_cast<float>((static_cast<double>(lo) + static_cast<double>(hi)) * 0.5);
}

// a[j], b[j] = sorted pair, for j < len (branch-free select).
void compare_exchange(float* __restrict a, float* __restrict b, size_t len) {
  for (size_t j = 0; j < len; ++j) {
    const float x = a[j], y = b[j];
    const bool swap = less_nan_last(y, x);
    a[j] = swap ? y : x;
    b[j] = swap ? x : y;
  }
}

// Block median by sorting network. buf (n, stride) scratch, stride >= len.
void block_median_network(std::span<const float* const> rows, size_t c0, size_t len, float* buf,
                          size_t stride, float* out) {
  const size_t n = rows.size();
  for (size_t k = 0; k < n; ++k) std::memcpy(buf + k * stride, rows[k] + c0, len * sizeof(float));
  // Odd-even transposition sort: n rounds of alternating adjacent pairs.
  for (size_t round = 0; round < n; ++round)
    for (size_t i = round % 2; i + 1 < n; i += 2) compare_exchange(buf + i * stride, buf + (i + 1) * stride, len);
  const float* hi = buf + (n / 2) * stride;
  if (n % 2 == 1) {
    std::memcpy(out, hi, len * sizeof(float));
    return;
  }
  const float* lo = hi - stride;
  for (size_t j = 0; j < len; ++j) out[j] = mid_value(lo[j], hi[j]);
}

// Median of col (n,), reorders col.
float column_median(float* col, size_t n) {
  float* mid = col + n / 2;
  std::nth_element(col, mid, col + n, less_nan_last);
  if (n % 2 == 1) return *mid;
  // Everything before mid is <= *mid: the lower middle is their maximum.
  return mid_value(*std::max_element(col, mid, less_nan_last), *mid);
}

// Block median by transposition + nth_element. buf (len, n) scratch.
void block_median_select(std::span<const float* const> rows, size_t c0, size_t len, float* buf,
                         float* out) {
  const size_t n = rows.size();
  for (size_t k = 0; k < n; ++k) {  // buf[j*n + k] = rows[k][c0 + j]
    const float* r = rows[k] + c0;
    for (size_t j = 0; j < len; ++j) buf[j * n + k] = r[j];
  }
  for (size_t j = 0; j < len; ++j) out[j] = column_median(buf + j * n, n);
}

class CoordinateMedianAggregator final : public DenseAggregator {
 public:
  explicit CoordinateMedianAggregator(int n)
      : n_(static_cast<size_t>(n)),
        // Multiple of 16 floats so every network row starts 64-byte aligned.
        block_(std::max<size_t>(16, kMedianBufferFloats / n_ / 16 * 16)),
        buf_(block_ * n_),
        all_(n_) {
    std::iota(all_.begin(), all_.end(), 0);
  }
  const char* name() const override { return "coordinate_median"; }

  std::vector<int> aggregate(std::span<const float* const> rows, size_t d, float* out) override {
    check_rows(rows, static_cast<int>(n_), name());
    for (size_t c0 = 0; c0 < d; c0 += block_) {
      const size_t len = std::min(block_, d - c0);
      if (n_ <= kNetworkMax)
        block_median_network(rows, c0, len, buf_.data(), block_, out + c0);
      else
        block_median_select(rows, c0, len, buf_.data(), out + c0);
    }
    return all_;
  }

 private:
  size_t n_;
  size_t block_;              // coordinates per block
  AlignedBuffer<float> buf_;  // (n, block) or (block, n) scratch
  std::vector<int> all_;      // 0 .. n-1
};

}  // namespace

std::unique_ptr<DenseAggregator> make_coordinate_median(int n) {
  return std::make_unique<CoordinateMedianAggregator>(n);
}

}  // namespace signvote::robust
