// The worked example of docs/extending.md, built here and tested by
// test_methods.cpp: a coordinate-wise trimmed mean. Shipping it would be
// this file as src/methods/trimmed_mean.cpp plus X(trimmed_mean) in
// src/methods/registry.cpp; the tests use it without registering it.
#pragma once

#include "methods/method.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace signvote::methods {

// out[i] = mean of rows[k][i] over k after dropping the b smallest and the
// b largest values of coordinate i (n > 2b rows, each d floats), summed in
// double and rounded once to float.
class TrimmedMeanRule final : public DenseAggregator {
 public:
  TrimmedMeanRule(int n, int b) : n_(n), b_(b), column_(static_cast<size_t>(n)) {}
  const char* name() const override { return "trimmed_mean"; }
  std::vector<int> aggregate(std::span<const float* const> rows, size_t d, float* out) override {
    if (rows.size() != column_.size())
      throw std::invalid_argument("trimmed_mean: got " + std::to_string(rows.size()) + " rows, expected " +
                                  std::to_string(n_));
    const auto kept = static_cast<double>(n_ - 2 * b_);
    for (size_t i = 0; i < d; ++i) {
      for (size_t k = 0; k < rows.size(); ++k) column_[k] = rows[k][i];
      std::sort(column_.begin(), column_.end());
      const double sum = std::accumulate(column_.begin() + b_, column_.end() - b_, 0.0);
      out[i] = static_cast<float>(sum / kept);
    }
    std::vector<int> all(column_.size());  // every row takes part
    std::iota(all.begin(), all.end(), 0);
    return all;
  }

 private:
  int n_, b_;
  std::vector<double> column_;  // (n,) one coordinate's values, reused
};

// fp32 up, trimmed mean down; per coordinate, so any number of shards.
class TrimmedMean final : public DenseMethod {
 public:
  explicit TrimmedMean(int b) : b_(b) {}
  const char* name() const override { return "trimmed_mean"; }
  void check(const Config& c, const ConfigFail& fail) const override {
    if (c.cluster.workers <= 2 * b_)
      fail("key 'cluster.workers' = " + std::to_string(c.cluster.workers) + " must exceed 2b = " +
           std::to_string(2 * b_) + " for trimmed_mean");
  }
  std::unique_ptr<DenseAggregator> make_rule(const Config& /*cfg*/, int workers) const override {
    return std::make_unique<TrimmedMeanRule>(workers, b_);
  }

 private:
  int b_;  // values dropped at each end of every coordinate
};

// b = 1: drop the smallest and the largest value of each coordinate.
inline const Method& trimmed_mean_method() {
  static const TrimmedMean m(1);
  return m;
}

}  // namespace signvote::methods
