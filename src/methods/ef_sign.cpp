// ef_sign (EF-SignSGD, Karimireddy et al., ICML 2019): each worker sends an
// EfSignCodec message (one scale, packed signs) and keeps the error-feedback
// residual (d,), which checkpoints save; the server decodes every row and
// returns their fp32 mean. Scale and residual are per whole vector: one
// server shard only.
#include "methods/method.h"
#include "robust/dense_impl.h"
#include "signvote/compressor.h"

namespace signvote::methods {
namespace {

// One codec over all d coordinates (one shard: the config check).
class EfSignEncoder final : public PayloadEncoder {
 public:
  explicit EfSignEncoder(size_t d) : codec_(d) {}
  size_t encode(size_t /*s*/, std::span<const float> g, uint64_t /*step*/, uint32_t* payload) override {
    return codec_.encode(g, {reinterpret_cast<std::byte*>(payload), codec_.encoded_bytes()});
  }
  std::span<float> residual() override { return codec_.residual(); }

 private:
  EfSignCodec codec_;
};

// Stateless: out_i = +-scale over the row's d coordinates.
class EfSignDecoder final : public PayloadDecoder {
 public:
  void decode(const std::byte* payload, std::span<float> row) const override {
    EfSignCodec::decode({payload, EfSignCodec::encoded_bytes(row.size())}, row);
  }
};

class EfSign final : public DenseMethod {
 public:
  const char* name() const override { return "ef_sign"; }
  const char* unshardable_reason() const override { return "its scale and residual are per whole vector"; }
  comm::RoundFormat round_format(const AggregationConfig& /*a*/) const override {
    return comm::RoundFormat::coded([](size_t n) { return EfSignCodec::encoded_bytes(n); });
  }
  std::unique_ptr<DenseAggregator> make_rule(const Config& /*cfg*/, int workers) const override {
    return robust::make_mean(workers);
  }
  ServerSide make_server_side(const Config& cfg, int workers, size_t shard_length) const override {
    ServerSide side = DenseMethod::make_server_side(cfg, workers, shard_length);
    side.decoder = std::make_unique<EfSignDecoder>();
    return side;
  }
  std::unique_ptr<PayloadEncoder> make_encoder(const Config& /*cfg*/, const std::vector<size_t>& shard_lengths,
                                               uint64_t /*worker_seed*/) const override {
    size_t d = 0;
    for (size_t n : shard_lengths) d += n;
    return std::make_unique<EfSignEncoder>(d);
  }
};

}  // namespace

const Method& ef_sign_method() {
  static const EfSign m;
  return m;
}

}  // namespace signvote::methods
