// multi_krum (Blanchard et al., NeurIPS 2017): fp32 gradients up, the mean
// of the m rows with the lowest Krum score down (aggregation.f, .m). Scores
// are distances between whole vectors: one server shard only.
#include "methods/method.h"
#include "robust/dense_impl.h"

#include <string>

namespace signvote::methods {
namespace {

class MultiKrum final : public DenseMethod {
 public:
  const char* name() const override { return "multi_krum"; }
  const char* unshardable_reason() const override { return "its scores are distances between whole vectors"; }
  // Blanchard et al.'s n > 2f + 2, and at most n rows averaged.
  void check(const Config& c, const ConfigFail& fail) const override {
    const int64_t f = c.aggregation.f, m = c.aggregation.m, n = c.cluster.workers;
    if (n <= 2 * f + 2)
      fail("key 'aggregation.f' = " + std::to_string(f) + " needs cluster.workers > 2f + 2 = " + std::to_string(2 * f + 2) +
           " for multi_krum (workers = " + std::to_string(n) + ")");
    if (m > n) fail("key 'aggregation.m' = " + std::to_string(m) + " exceeds cluster.workers = " + std::to_string(n));
  }
  std::unique_ptr<DenseAggregator> make_rule(const Config& cfg, int workers) const override {
    const auto& a = cfg.aggregation;
    return robust::make_multi_krum(workers, {static_cast<int>(a.f), static_cast<int>(a.m)});
  }
};

}  // namespace

const Method& multi_krum_method() {
  static const MultiKrum m;
  return m;
}

}  // namespace signvote::methods
