// Which GPU a cuda worker rank uses: its index among the worker ranks of
// its node (Topology::local_worker_index), over the devices the process
// sees (CUDA_VISIBLE_DEVICES applies). Throws std::runtime_error with one
// line naming the rank when no device is visible, or when the node has
// more worker ranks than GPUs and model.share_gpus is false.
#pragma once

#include "comm/topology.h"
#include "signvote/config.h"

namespace signvote::worker {

int place_on_gpu(const Config& cfg, const comm::Topology& topo);

}  // namespace signvote::worker
