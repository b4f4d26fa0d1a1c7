#include "server/aggregation.h"

#include "methods/registry.h"
#include "server/attacks.h"
#include "signvote/adversary.h"
#include "signvote/aligned_buffer.h"
#include "signvote/aggregator.h"

#include <memory>
#include <optional>
#include <vector>

namespace signvote::server {

namespace {

// Decodes (if the method codes its rows) the W payloads into fp32 rows,
// then aggregates them with the method's rule.
struct DenseCombine {
  std::shared_ptr<DenseAggregator> agg;
  std::shared_ptr<const methods::PayloadDecoder> decoder;  // null: fp32 rows as sent
  std::shared_ptr<AlignedBuffer<float>> scratch;  // decoded rows (W, d)
  std::optional<DenseAttack> attack;              // alie | ipm, simulated here (attacks.h)
  std::vector<char> adversary;                    // per row
  std::shared_ptr<AlignedBuffer<float>> forged;   // the adversaries' rows (W, d)

  void operator()(const uint32_t* rows, size_t W, size_t stride, const comm::Range& shard, uint32_t* out,
                  uint32_t /*ties*/) const {
    const size_t d = shard.length;
    std::vector<const float*> ptr(W);
    if (decoder) {
      if (scratch->size() < W * d) *scratch = AlignedBuffer<float>(W * d);
      for (size_t k = 0; k < W; ++k) {
        std::span<float> dst(scratch->data() + k * d, d);
        decoder->decode(reinterpret_cast<const std::byte*>(rows + k * stride), dst);  // one shard: d == codec dim
        ptr[k] = dst.data();
      }
    } else {
      for (size_t k = 0; k < W; ++k) ptr[k] = reinterpret_cast<const float*>(rows + k * stride);
    }
    if (attack) forge(ptr, d);
    agg->aggregate(ptr, d, reinterpret_cast<float*>(out));
  }

  // The adversaries' rows replaced by the attack on the honest ones.
  void forge(std::vector<const float*>& ptr, size_t d) const {
    if (forged->size() < ptr.size() * d) *forged = AlignedBuffer<float>(ptr.size() * d);
    std::vector<float*> writable(ptr.size(), nullptr);
    for (size_t k = 0; k < ptr.size(); ++k)
      if (adversary[k]) writable[k] = forged->data() + k * d;
    attack->apply(ptr, adversary, d, writable);
    for (size_t k = 0; k < ptr.size(); ++k)
      if (adversary[k]) ptr[k] = writable[k];
  }
};

}  // namespace

AggregateFn make_aggregate(const Config& cfg, int workers, size_t shard_length, const kernels::SignOps& ops) {
  std::vector<char> adversary(static_cast<size_t>(workers));
  for (int k = 0; k < workers; ++k) adversary[static_cast<size_t>(k)] = cfg.is_adversary(k) ? 1 : 0;
  const AdversaryMode mode = cfg.adversary.mode_kind;
  const bool simulated = cfg.adversaries() > 0 && server_simulated(mode);
  if (round_kind(cfg) != RoundKind::dense)
    return simulated && mode == AdversaryMode::collude ? colluding_vote(ops, adversary) : majority_vote(ops);
  methods::ServerSide side = methods::method_of(cfg).make_server_side(cfg, workers, shard_length);
  DenseCombine c;
  c.agg = std::move(side.rule);
  c.decoder = std::move(side.decoder);
  c.scratch = std::make_shared<AlignedBuffer<float>>();
  if (simulated) {
    DenseAttack attack;
    attack.kind = mode == AdversaryMode::alie ? DenseAttack::alie : DenseAttack::ipm;
    if (mode == AdversaryMode::alie) attack.z = alie_z(workers, static_cast<int>(cfg.adversaries()));
    attack.eps = static_cast<float>(cfg.adversary.scale);
    c.attack = attack;
    c.adversary = adversary;
    c.forged = std::make_shared<AlignedBuffer<float>>();
  }
  return c;
}

}  // namespace signvote::server
