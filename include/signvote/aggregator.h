// Dense (float) gradient aggregators for the parameter server's non-sign
// baselines: plain mean, Multi-Krum (Blanchard et al., NeurIPS 2017) and the
// coordinate-wise median. The sign majority vote lives in kernels/.
//
// Input: n worker rows, rows[k] -> worker k's gradient, d floats each (the
// rows need not be contiguous). Output: out (d,) floats, never aliasing a row.
// Every aggregator keeps reusable scratch buffers: aggregate() is not
// thread-safe on one object; use one object per thread.
//
//   method              output                                     rows used
//   mean                (1/n) sum_k rows[k]                        all n
//   coordinate_median   out[i] = median_k rows[k][i]               all n
//                       (even n: mean of the two middle values)
//   multi_krum          mean of the m rows with the lowest Krum    m selected
//                       score (m = n - f by default)
//
// Krum score of row i (f = Byzantine workers tolerated):
//   score_i = sum of ||rows[i] - rows[j]||^2 over the n - f - 2 rows j != i
//             nearest to row i.
// Requires n > 2f + 2 (Blanchard et al., Lemma 1); ties in the score go to
// the lower worker index, so the selection is deterministic.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace signvote {

struct AggregatorOptions {
  int f = 0;  // multi_krum: Byzantine workers tolerated, 0 <= f, n > 2f + 2
  int m = 0;  // multi_krum: rows averaged, 1 <= m <= n; 0 = n - f
};

class DenseAggregator {
 public:
  virtual ~DenseAggregator() = default;
  // "mean" | "multi_krum" | "coordinate_median".
  virtual const char* name() const = 0;
  // rows (n_workers pointers) -> d floats each; out (d,). Returns the indices
  // of the rows that entered the output: 0..n-1 for mean / median; for
  // multi_krum the m selected rows, lowest score first. Throws
  // std::invalid_argument when rows.size() != n_workers.
  virtual std::vector<int> aggregate(std::span<const float* const> rows, size_t d, float* out) = 0;
};

// method: "mean" | "multi_krum" | "coordinate_median". Throws
// std::invalid_argument for an unknown method (naming it and listing the
// valid ones), n_workers < 1, or (multi_krum) options violating the
// constraints above; the message names `aggregation.f` / `aggregation.m`.
// For library users: signvote's own runs get their rule from the method
// object (src/methods), not by name.
std::unique_ptr<DenseAggregator> make_dense_aggregator(const std::string& method, int n_workers,
                                                       const AggregatorOptions& options);

// Krum scores (n,) in double, as defined above (for logging and tests).
// Requires n > f + 2 so that every row has n - f - 2 >= 1 neighbours; throws
// std::invalid_argument otherwise.
std::vector<double> krum_scores(std::span<const float* const> rows, size_t d, int f);

}  // namespace signvote
