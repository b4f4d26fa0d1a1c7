#include "worker/placement.h"

#include "signvote/device.h"

#include <fmt/format.h>

#include <stdexcept>

namespace signvote::worker {

int place_on_gpu(const Config& cfg, const comm::Topology& topo) {
  std::string why;
  const int gpus = cuda_device_count(&why);
  const int rank = topo.world_rank();
  if (gpus == 0) throw std::runtime_error(fmt::format("no CUDA device visible to rank {} ({})", rank, why));
  const int local = topo.local_worker_index(), count = topo.local_workers();
  if (count > gpus && !cfg.model.share_gpus)
    throw std::runtime_error(fmt::format(
        "rank {}: {} worker ranks on this node but {} visible GPU(s); start one worker rank per GPU, or set "
        "model.share_gpus: true",
        rank, count, gpus));
  return local % gpus;
}

}  // namespace signvote::worker
