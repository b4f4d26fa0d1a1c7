// coordinate_median: fp32 gradients up, out[i] = median_k g_k[i] down (even
// W: the mean of the two middle values). Per coordinate, so shardable.
#include "methods/method.h"
#include "robust/dense_impl.h"

namespace signvote::methods {
namespace {

class CoordinateMedian final : public DenseMethod {
 public:
  const char* name() const override { return "coordinate_median"; }
  std::unique_ptr<DenseAggregator> make_rule(const Config& /*cfg*/, int workers) const override {
    return robust::make_coordinate_median(workers);
  }
};

}  // namespace

const Method& coordinate_median_method() {
  static const CoordinateMedian m;
  return m;
}

}  // namespace signvote::methods
