#include "worker/encoder.h"

#include <cmath>
#include <cstring>

namespace signvote::worker {

DenseEncoder::DenseEncoder(const Config& cfg, size_t dim, uint64_t worker_seed)
    : method_(cfg.aggregation.method), seed_(worker_seed) {
  if (method_ == "qsgd")
    qsgd_ = std::make_unique<QsgdCodec>(dim, static_cast<int>(cfg.aggregation.levels), parse_qsgd_norm(cfg.aggregation.norm),
                                        static_cast<size_t>(cfg.aggregation.bucket));
  if (method_ == "ef_sign") ef_ = std::make_unique<EfSignCodec>(dim);
}

size_t DenseEncoder::encode(std::span<const float> g, uint64_t step, uint32_t* payload) {
  auto* bytes = reinterpret_cast<std::byte*>(payload);
  if (qsgd_) return qsgd_->encode(g, {bytes, qsgd_->encoded_bytes()}, seed_, step);
  if (ef_) return ef_->encode(g, {bytes, ef_->encoded_bytes()});
  std::memcpy(payload, g.data(), g.size_bytes());  // fp32 as it is
  size_t bad = 0;
  for (float v : g) bad += !std::isfinite(v);
  return bad;
}

std::span<float> DenseEncoder::residual() { return ef_ ? ef_->residual() : std::span<float>{}; }

}  // namespace signvote::worker
