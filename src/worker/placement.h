// Which GPU a cuda worker rank uses, and whether worker ranks share GPUs.
//
// Each worker takes visible device local_worker_index % (visible devices)
// (CUDA_VISIBLE_DEVICES applies), then, collective over workers_comm, the
// identities of every worker's GPU (gpu_identity) are gathered and
// comm::plan_gpus decides: GPUs count as shared only when two ranks hold
// the same identity, never from device counts (with --gpus-per-task=1 each
// rank sees one GPU, a different one). Throws std::runtime_error with one
// line naming the rank when no device is visible to it, or when two ranks
// hold one GPU and model.share_gpus is false (every worker throws that
// same line).
//
// Collective: every worker rank must call it (the ranks that fail locally
// still take part in the gather before throwing).
#pragma once

#include "comm/topology.h"
#include "signvote/config.h"

#include <string>

namespace signvote::worker {

// failed_here: this rank already failed its own set-up (check_resources):
// it still takes part in the gather, with no identity, and returns -1, so
// the others are not left waiting in it.
int place_on_gpu(const Config& cfg, const comm::Topology& topo, bool failed_here = false);

// A globally unique name of CUDA device `device` (an index among the
// visible devices) as NCCL tells devices apart: "<host>/<PCI bus id>"
// (MIG instances of one GPU share it, and NCCL refuses them as duplicates).
// Throws std::runtime_error (SV_CUDA_CHECK) for a bad index.
std::string gpu_identity(int device);

}  // namespace signvote::worker
