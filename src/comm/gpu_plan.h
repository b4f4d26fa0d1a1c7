// Which worker ranks hold the same GPU, decided from device identities,
// never from device counts: with CUDA_VISIBLE_DEVICES set per rank (Slurm
// --gpus-per-task=1) every rank sees one GPU as "device 0", yet each holds a
// different one; with several ranks on an unrestricted node, ranks 0 and 2
// of a 2-GPU node both pick "device 0" and do share it.
//
//   identity: "<host>/<PCI bus id>", NCCL's own test for a duplicate GPU
//             (worker/placement.h: gpu_identity; MIG instances of one GPU
//             share a bus id, so they count as one)
//   ids[k]:   the identity of worker k's GPU, k = 0..W-1, gathered over
//             workers_comm, so every worker decides the same plan
//   shared:   some identity appears twice. NCCL refuses a communicator with
//             two ranks on one GPU ("Duplicate GPU detected"), so the fp32
//             sums then go through the host and MPI on every worker.
//   error:    shared and share_allowed (model.share_gpus) is false: one line
//             naming the first rank whose GPU an earlier rank already holds.
//   sharing:  for the log, every identity held twice or more with its ranks,
//             e.g. "GPU-3f2a...: ranks 1, 3; GPU-9c01...: ranks 2, 4".
// Pure (no CUDA, no MPI): the CPU tests cover every case.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

namespace signvote::comm {

struct GpuPlan {
  bool shared = false;
  int ranks = 0;     // worker ranks in ids
  int distinct = 0;  // distinct GPUs among them
  std::string error;
  std::string sharing;
};

// ids[k] belongs to world rank first_rank + k (workers are consecutive
// world ranks after the servers: comm::Topology::worker_rank). An empty id
// is a rank without a GPU (it reports its own error): never shared.
GpuPlan plan_gpus(const std::vector<std::string>& ids, bool share_allowed, int first_rank = 0);


// Collective over `comm`: every rank's string, in rank order (lengths may
// differ). Each MPI call through SV_MPI_CHECK.
std::vector<std::string> allgather_strings(MPI_Comm comm, const std::string& mine);

}  // namespace signvote::comm
