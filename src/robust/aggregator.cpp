// Dense aggregator factory, the plain mean, and helpers shared by the others.
#include <algorithm>
#include <array>
#include <numeric>
#include <stdexcept>
#include <string>

#include "robust/dense_impl.h"
#include "signvote/aggregator.h"

namespace signvote {
namespace robust {

void check_rows(std::span<const float* const> rows, int n, const char* method) {
  if (rows.size() != static_cast<size_t>(n))
    throw std::invalid_argument(std::string(method) + ": got " + std::to_string(rows.size()) +
                                " rows, expected n_workers = " + std::to_string(n));
  for (size_t k = 0; k < rows.size(); ++k)
    if (rows[k] == nullptr)
      throw std::invalid_argument(std::string(method) + ": row " + std::to_string(k) + " is null");
}

void average_rows(std::span<const float* const> rows, std::span<const int> which, size_t d,
                  float* out) {
  if (which.empty()) throw std::invalid_argument("average_rows: no rows selected");
  const double inv = 1.0 / static_cast<double>(which.size());
  std::array<double, kBlockCoords> acc;  // per-coordinate sums of one block
  for (size_t c0 = 0; c0 < d; c0 += kBlockCoords) {
    const size_t len = std::min(kBlockCoords, d - c0);
    std::fill_n(acc.begin(), len, 0.0);
    for (int k : which) {
      const float* r = rows[static_cast<size_t>(k)] + c0;
      for (size_t j = 0; j < len; ++j) acc[j] += static_cast<double>(r[j]);
    }
    for (size_t j = 0; j < len; ++j) out[c0 + j] = static_cast<float>(acc[j] * inv);
  }
}

namespace {

class MeanAggregator final : public DenseAggregator {
 public:
  explicit MeanAggregator(int n) : all_(static_cast<size_t>(n)) {
    std::iota(all_.begin(), all_.end(), 0);
  }
  const char* name() const override { return "mean"; }
  std::vector<int> aggregate(std::span<const float* const> rows, size_t d, float* out) override {
    check_rows(rows, static_cast<int>(all_.size()), name());
    average_rows(rows, all_, d, out);
    return all_;
  }

 private:
  std::vector<int> all_;  // 0 .. n-1
};

}  // namespace

std::unique_ptr<DenseAggregator> make_mean(int n) { return std::make_unique<MeanAggregator>(n); }

}  // namespace robust

std::unique_ptr<DenseAggregator> make_dense_aggregator(const std::string& method, int n_workers,
                                                       const AggregatorOptions& options) {
  if (n_workers < 1)
    throw std::invalid_argument("dense aggregator '" + method + "': n_workers = " +
                                std::to_string(n_workers) + ", need >= 1");
  if (method == "mean") return robust::make_mean(n_workers);
  if (method == "multi_krum") return robust::make_multi_krum(n_workers, options);
  if (method == "coordinate_median") return robust::make_coordinate_median(n_workers);
  throw std::invalid_argument("unknown dense aggregation method '" + method +
                              "' (valid: mean, multi_krum, coordinate_median)");
}

}  // namespace signvote
