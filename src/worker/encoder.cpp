#include "worker/encoder.h"

#include "methods/registry.h"

namespace signvote::worker {

DenseEncoder::DenseEncoder(const Config& cfg, const std::vector<size_t>& shard_lengths, uint64_t worker_seed)
    : impl_(methods::method_of(cfg).make_encoder(cfg, shard_lengths, worker_seed)) {}

}  // namespace signvote::worker
