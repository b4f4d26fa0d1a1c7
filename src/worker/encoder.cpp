#include "worker/encoder.h"

#include "util/rng.h"

#include <cmath>
#include <cstring>

namespace signvote::worker {

DenseEncoder::DenseEncoder(const Config& cfg, const std::vector<size_t>& shard_lengths, uint64_t worker_seed)
    : method_(cfg.aggregation.method), seed_(worker_seed) {
  const auto& a = cfg.aggregation;
  if (method_ == "qsgd")
    for (size_t n : shard_lengths)
      qsgd_.push_back(std::make_unique<QsgdCodec>(n, static_cast<int>(a.levels), parse_qsgd_norm(a.norm),
                                                  static_cast<size_t>(a.bucket)));
  size_t d = 0;
  for (size_t n : shard_lengths) d += n;
  if (method_ == "ef_sign") ef_ = std::make_unique<EfSignCodec>(d);
}

size_t DenseEncoder::encode(size_t s, std::span<const float> g, uint64_t step, uint32_t* payload) {
  auto* bytes = reinterpret_cast<std::byte*>(payload);
  // Each shard draws its own stream (the shard index mixed into the seed).
  if (!qsgd_.empty()) return qsgd_[s]->encode(g, {bytes, qsgd_[s]->encoded_bytes()}, util::mix64(seed_ + s), step);
  if (ef_) return ef_->encode(g, {bytes, ef_->encoded_bytes()});
  std::memcpy(payload, g.data(), g.size_bytes());  // fp32 as it is
  size_t bad = 0;
  for (float v : g) bad += !std::isfinite(v);
  return bad;
}

std::span<float> DenseEncoder::residual() { return ef_ ? ef_->residual() : std::span<float>{}; }

}  // namespace signvote::worker
