// Multi-Krum (Blanchard et al., NeurIPS 2017): score every row by the summed
// squared L2 distance to its n - f - 2 nearest other rows, average the m rows
// with the lowest scores. Distances are accumulated in double.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "robust/dense_impl.h"
#include "signvote/aggregator.h"

namespace signvote {
namespace robust {
namespace {

// sum_c (a_c - b_c)^2 over len coordinates, in double; 4 independent partial
// sums break the add dependency chain (fixed order: deterministic).
double squared_distance(const float* a, const float* b, size_t len) {
  double s[4] = {0.0, 0.0, 0.0, 0.0};
  size_t c = 0;
  for (; c + 4 <= len; c += 4)
    for (int u = 0; u < 4; ++u) {
      const double diff = static_cast<double>(a[c + u]) - static_cast<double>(b[c + u]);
      s[u] += diff * diff;
    }
  for (; c < len; ++c) {
    const double diff = static_cast<double>(a[c]) - static_cast<double>(b[c]);
    s[0] += diff * diff;
  }
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// dist (n*n,) row-major, symmetric, zero diagonal. Blocked over coordinates
// so the n row segments of a block stay in cache for all n(n-1)/2 pairs.
// NaN distances (NaN in a row) become +inf: such a row is maximally far.
void pairwise_distances(std::span<const float* const> rows, size_t d, std::vector<double>& dist) {
  const size_t n = rows.size();
  dist.assign(n * n, 0.0);
  for (size_t c0 = 0; c0 < d; c0 += kBlockCoords) {
    const size_t len = std::min(kBlockCoords, d - c0);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i + 1; j < n; ++j) dist[i * n + j] += squared_distance(rows[i] + c0, rows[j] + c0, len);
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      double& v = dist[i * n + j];
      if (std::isnan(v)) v = std::numeric_limits<double>::infinity();
      dist[j * n + i] = v;
    }
}

// score_i = sum of the k smallest dist[i][j], j != i (summed smallest first).
std::vector<double> scores_from_distances(const std::vector<double>& dist, size_t n, size_t k) {
  std::vector<double> scores(n), others;
  others.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    others.clear();
    for (size_t j = 0; j < n; ++j)
      if (j != i) others.push_back(dist[i * n + j]);
    std::sort(others.begin(), others.end());
    scores[i] = std::accumulate(others.begin(), others.begin() + static_cast<std::ptrdiff_t>(k), 0.0);
  }
  return scores;
}

class MultiKrumAggregator final : public DenseAggregator {
 public:
  MultiKrumAggregator(int n, int f, int m) : n_(n), f_(f), m_(m) {}
  const char* name() const override { return "multi_krum"; }

  std::vector<int> aggregate(std::span<const float* const> rows, size_t d, float* out) override {
    check_rows(rows, n_, name());
    pairwise_distances(rows, d, dist_);
    const std::vector<double> scores =
        scores_from_distances(dist_, static_cast<size_t>(n_), static_cast<size_t>(n_ - f_ - 2));
    std::vector<int> order(static_cast<size_t>(n_));
    std::iota(order.begin(), order.end(), 0);
    // Stable: equal scores keep index order, so the lower index wins ties.
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return scores[static_cast<size_t>(a)] < scores[static_cast<size_t>(b)];
    });
    order.resize(static_cast<size_t>(m_));
    average_rows(rows, order, d, out);
    return order;
  }

 private:
  int n_, f_, m_;
  std::vector<double> dist_;  // (n*n,) scratch, reused across steps
};

}  // namespace

std::unique_ptr<DenseAggregator> make_multi_krum(int n, const AggregatorOptions& options) {
  const int f = options.f;
  if (f < 0 || n <= 2 * f + 2)
    throw std::invalid_argument("multi_krum: aggregation.f = " + std::to_string(f) + " with " +
                                std::to_string(n) + " workers; need f >= 0 and n > 2f + 2" +
                                (n >= 3 ? " (f <= " + std::to_string((n - 3) / 2) + ")" : " (n >= 3)"));
  const int m = options.m == 0 ? n - f : options.m;
  if (m < 1 || m > n)
    throw std::invalid_argument("multi_krum: aggregation.m = " + std::to_string(options.m) + " with " +
                                std::to_string(n) + " workers; need 1 <= m <= n (0 = n - f)");
  return std::make_unique<MultiKrumAggregator>(n, f, m);
}

}  // namespace robust

std::vector<double> krum_scores(std::span<const float* const> rows, size_t d, int f) {
  const size_t n = rows.size();
  if (f < 0 || static_cast<long>(n) <= static_cast<long>(f) + 2)
    throw std::invalid_argument("krum_scores: f = " + std::to_string(f) + " with " +
                                std::to_string(n) + " rows; need 0 <= f < n - 2");
  robust::check_rows(rows, static_cast<int>(n), "krum_scores");
  std::vector<double> dist;
  robust::pairwise_distances(rows, d, dist);
  return robust::scores_from_distances(dist, n, n - static_cast<size_t>(f) - 2);
}

}  // namespace signvote
