// Internals shared by the dense aggregators (aggregator.cpp, multi_krum.cpp,
// coordinate_median.cpp) and src/methods. Not installed; include
// "signvote/aggregator.h".
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "signvote/aggregator.h"

namespace signvote::robust {

// Coordinates per block in the blocked loops: 2048 doubles = 16 KiB of
// accumulators, small enough to stay in L1 next to the streamed rows.
inline constexpr size_t kBlockCoords = 2048;

// Throws std::invalid_argument unless rows.size() == n and no row is null.
void check_rows(std::span<const float* const> rows, int n, const char* method);

// out (d,) = mean over k in `which` of rows[k], accumulated in double per
// coordinate (rows summed in the order given), rounded once to float.
void average_rows(std::span<const float* const> rows, std::span<const int> which, size_t d,
                  float* out);

// The typed factories (src/methods calls them; make_dense_aggregator picks
// one by name for library users).
std::unique_ptr<DenseAggregator> make_mean(int n);
std::unique_ptr<DenseAggregator> make_multi_krum(int n, const AggregatorOptions& options);
std::unique_ptr<DenseAggregator> make_coordinate_median(int n);

}  // namespace signvote::robust
