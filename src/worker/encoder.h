// Worker side of the dense aggregation methods (src/server/aggregation.h):
// turns this worker's (possibly corrupted) gradient into the VOTE payload,
// with the encoder its method object makes (src/methods/<name>.cpp).
#pragma once

#include "methods/method.h"
#include "signvote/config.h"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace signvote::worker {

// Each server shard is encoded and aggregated on its own (QSGD's buckets and
// norms are per shard; ef_sign and multi_krum run with one server, see the
// config check).
class DenseEncoder {
 public:
  // shard_lengths: coordinates of each shard, in order (sum = d).
  DenseEncoder(const Config& cfg, const std::vector<size_t>& shard_lengths, uint64_t worker_seed);
  // g (shard s's coordinates) -> payload (words as sized by round_format for
  // that shard); returns the number of non-finite values (non-zero is an
  // error the server reports).
  size_t encode(size_t s, std::span<const float> g, uint64_t step, uint32_t* payload) {
    return impl_->encode(s, g, step, payload);
  }
  // Error-feedback residual (ef_sign), empty otherwise; for checkpoints.
  std::span<float> residual() { return impl_->residual(); }

 private:
  std::unique_ptr<methods::PayloadEncoder> impl_;
};

}  // namespace signvote::worker
