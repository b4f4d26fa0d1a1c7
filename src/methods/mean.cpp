// mean: fp32 gradients up, their coordinate-wise mean (1/W) sum_k g_k down.
// Coordinates are independent, so any number of server shards works.
#include "methods/method.h"
#include "robust/dense_impl.h"

namespace signvote::methods {
namespace {

class Mean final : public DenseMethod {
 public:
  const char* name() const override { return "mean"; }
  std::unique_ptr<DenseAggregator> make_rule(const Config& /*cfg*/, int workers) const override {
    return robust::make_mean(workers);
  }
};

}  // namespace

const Method& mean_method() {
  static const Mean m;
  return m;
}

}  // namespace signvote::methods
