// qsgd (Alistarh et al., NeurIPS 2017): each worker sends its shard as a
// QsgdCodec message (bucket norms, signs, level indices; aggregation.levels,
// .norm, .bucket); the server decodes every row and returns their fp32 mean.
// Buckets and norms are per shard, so any number of server shards works.
#include "methods/method.h"
#include "robust/dense_impl.h"
#include "signvote/compressor.h"
#include "util/rng.h"

namespace signvote::methods {
namespace {

QsgdCodec codec(const AggregationConfig& a, size_t length) {
  return QsgdCodec(length, static_cast<int>(a.levels), a.norm_kind, static_cast<size_t>(a.bucket));
}

// One codec per server shard; shard s draws its own stream (s mixed into the seed).
class QsgdEncoder final : public PayloadEncoder {
 public:
  QsgdEncoder(const AggregationConfig& a, const std::vector<size_t>& shard_lengths, uint64_t seed) : seed_(seed) {
    for (size_t n : shard_lengths) codecs_.push_back(std::make_unique<QsgdCodec>(codec(a, n)));
  }
  size_t encode(size_t s, std::span<const float> g, uint64_t step, uint32_t* payload) override {
    auto* bytes = reinterpret_cast<std::byte*>(payload);
    return codecs_[s]->encode(g, {bytes, codecs_[s]->encoded_bytes()}, util::mix64(seed_ + s), step);
  }

 private:
  uint64_t seed_;
  std::vector<std::unique_ptr<QsgdCodec>> codecs_;  // per shard
};

// One shard's codec (d == the shard length).
class QsgdDecoder final : public PayloadDecoder {
 public:
  QsgdDecoder(const AggregationConfig& a, size_t length) : codec_(codec(a, length)) {}
  void decode(const std::byte* payload, std::span<float> row) const override {
    codec_.decode({payload, codec_.encoded_bytes()}, row);
  }

 private:
  QsgdCodec codec_;
};

class Qsgd final : public DenseMethod {
 public:
  const char* name() const override { return "qsgd"; }
  comm::RoundFormat round_format(const AggregationConfig& a) const override {
    const int s = static_cast<int>(a.levels);
    const auto B = static_cast<size_t>(a.bucket);
    return comm::RoundFormat::coded([s, B](size_t n) { return QsgdCodec::encoded_bytes(n, s, B); });
  }
  std::unique_ptr<DenseAggregator> make_rule(const Config& /*cfg*/, int workers) const override {
    return robust::make_mean(workers);
  }
  ServerSide make_server_side(const Config& cfg, int workers, size_t shard_length) const override {
    ServerSide side = DenseMethod::make_server_side(cfg, workers, shard_length);
    side.decoder = std::make_unique<QsgdDecoder>(cfg.aggregation, shard_length);
    return side;
  }
  std::unique_ptr<PayloadEncoder> make_encoder(const Config& cfg, const std::vector<size_t>& shard_lengths,
                                               uint64_t worker_seed) const override {
    return std::make_unique<QsgdEncoder>(cfg.aggregation, shard_lengths, worker_seed);
  }
};

}  // namespace

const Method& qsgd_method() {
  static const Qsgd m;
  return m;
}

}  // namespace signvote::methods
