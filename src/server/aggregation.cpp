#include "server/aggregation.h"

#include "signvote/aligned_buffer.h"
#include "signvote/aggregator.h"
#include "signvote/compressor.h"

#include <memory>
#include <vector>

namespace signvote::server {

namespace {

// Decodes (if needed) the W payloads into fp32 rows, then aggregates.
struct DenseCombine {
  std::string method;
  std::shared_ptr<DenseAggregator> agg;
  std::shared_ptr<QsgdCodec> qsgd;   // set for qsgd
  std::shared_ptr<AlignedBuffer<float>> scratch;  // decoded rows (W, d)

  void operator()(const uint32_t* rows, size_t W, size_t stride, const comm::Shard& shard, uint32_t* out) const {
    const size_t d = shard.length;
    std::vector<const float*> ptr(W);
    if (method == "qsgd" || method == "ef_sign") {
      if (scratch->size() < W * d) *scratch = AlignedBuffer<float>(W * d);
      for (size_t k = 0; k < W; ++k) {
        const auto* in = reinterpret_cast<const std::byte*>(rows + k * stride);
        std::span<float> dst(scratch->data() + k * d, d);
        if (qsgd)
          qsgd->decode({in, qsgd->encoded_bytes()}, dst);  // one shard: d == codec dim
        else
          EfSignCodec::decode({in, EfSignCodec::encoded_bytes(d)}, dst);
        ptr[k] = dst.data();
      }
    } else {
      for (size_t k = 0; k < W; ++k) ptr[k] = reinterpret_cast<const float*>(rows + k * stride);
    }
    agg->aggregate(ptr, d, reinterpret_cast<float*>(out));
  }
};

}  // namespace

AggregateFn make_aggregate(const Config& cfg, int workers, size_t shard_length, const kernels::SignOps& ops) {
  const auto& a = cfg.aggregation;
  if (round_kind(cfg) != RoundKind::dense) return majority_vote(ops);
  DenseCombine c;
  c.method = a.method;
  const std::string rule = a.method == "multi_krum" || a.method == "coordinate_median" ? a.method : "mean";
  c.agg = make_dense_aggregator(rule, workers, {static_cast<int>(a.f), static_cast<int>(a.m)});
  if (a.method == "qsgd")
    c.qsgd = std::make_shared<QsgdCodec>(shard_length, static_cast<int>(a.levels), parse_qsgd_norm(a.norm),
                                         static_cast<size_t>(a.bucket));
  c.scratch = std::make_shared<AlignedBuffer<float>>();
  return c;
}

}  // namespace signvote::server
