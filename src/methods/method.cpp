// The defaults of methods/method.h: the kind's wire format, the fp32 encoder,
// and the dense server side (no decoder, the subclass's rule).
#include "methods/method.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace signvote::methods {
namespace {

// fp32 as it is: payload = g (g.size() floats), non-finite values counted.
class Fp32Encoder final : public PayloadEncoder {
 public:
  size_t encode(size_t /*s*/, std::span<const float> g, uint64_t /*step*/, uint32_t* payload) override {
    std::memcpy(payload, g.data(), g.size_bytes());
    size_t bad = 0;
    for (float v : g) bad += !std::isfinite(v);
    return bad;
  }
};

}  // namespace

comm::RoundFormat Method::round_format(const AggregationConfig& /*a*/) const {
  return round_kind() == RoundKind::dense ? comm::RoundFormat::fp32() : comm::RoundFormat::sign_bits();
}

ServerSide Method::make_server_side(const Config& /*cfg*/, int /*workers*/, size_t /*shard_length*/) const {
  throw std::logic_error(std::string("aggregation.method ") + name() + " has no dense server side");
}

std::unique_ptr<PayloadEncoder> Method::make_encoder(const Config& /*cfg*/, const std::vector<size_t>& /*shard_lengths*/,
                                                     uint64_t /*worker_seed*/) const {
  return std::make_unique<Fp32Encoder>();
}

ServerSide DenseMethod::make_server_side(const Config& cfg, int workers, size_t /*shard_length*/) const {
  if (workers < 1)  // make_dense_aggregator's check, message and all
    throw std::invalid_argument(std::string("dense aggregator '") + name() + "': n_workers = " +
                                std::to_string(workers) + ", need >= 1");
  ServerSide side;
  side.rule = make_rule(cfg, workers);
  return side;
}

}  // namespace signvote::methods
