// Worker side of the dense aggregation methods (src/server/aggregation.h):
// turns this worker's (possibly corrupted) gradient into the VOTE payload.
#pragma once

#include "signvote/compressor.h"
#include "signvote/config.h"

#include <cstdint>
#include <memory>
#include <span>

namespace signvote::worker {

class DenseEncoder {
 public:
  DenseEncoder(const Config& cfg, size_t dim, uint64_t worker_seed);
  // g (d,) -> payload (words as sized by round_format); returns the number
  // of non-finite values (non-zero is an error the server reports).
  size_t encode(std::span<const float> g, uint64_t step, uint32_t* payload);
  // Error-feedback residual (ef_sign), empty otherwise; for checkpoints.
  std::span<float> residual();

 private:
  std::string method_;
  uint64_t seed_;
  std::unique_ptr<QsgdCodec> qsgd_;
  std::unique_ptr<EfSignCodec> ef_;
};

}  // namespace signvote::worker
