#include "worker/placement.h"

#include "comm/gpu_plan.h"
#include "comm/mpi_calls.h"
#include "signvote/device.h"

#include <fmt/format.h>

#include <stdexcept>

#ifdef SIGNVOTE_CUDA_WORKERS
#include <cuda_runtime_api.h>

#include "kernels/cuda_check.h"
#endif

namespace signvote::worker {
namespace {

std::string host_name() { return comm::processor_name(); }

}  // namespace

#ifdef SIGNVOTE_CUDA_WORKERS
// NCCL's own rule for "Duplicate GPU detected": same host and same PCI bus
// id. Not the UUID: MIG instances of one GPU have different UUIDs but one
// bus id, and NCCL refuses two ranks on them.
std::string gpu_identity(int device) {
  char bus[32] = {};  // "0000:3b:00.0": unique within a host
  SV_CUDA_CHECK(cudaDeviceGetPCIBusId(bus, sizeof bus, device));
  return host_name() + "/" + bus;
}
#else
// No cuda workers in this build (make_cuda_engine throws later): the
// visible index on this host stands in for the identity.
std::string gpu_identity(int device) { return fmt::format("{}/visible device {}", host_name(), device); }
#endif

int place_on_gpu(const Config& cfg, const comm::Topology& topo, bool failed_here) {
  if (failed_here) {
    comm::allgather_strings(topo.workers_comm(), std::string());
    return -1;
  }
  const int rank = topo.world_rank();
  std::string why, error, id;
  const int gpus = cuda_device_count(&why);
  const int device = gpus > 0 ? topo.local_worker_index() % gpus : -1;
  if (gpus == 0) error = fmt::format("no CUDA device visible to rank {} ({})", rank, why);
  try {
    if (device >= 0) id = gpu_identity(device);
  } catch (const std::exception& e) {
    error = fmt::format("rank {}: visible CUDA device {}: {}", rank, device, e.what());
  }
  // Every worker takes part (an empty id: this rank failed), then decides.
  const auto ids = comm::allgather_strings(topo.workers_comm(), id);
  if (!error.empty()) throw std::runtime_error(error);
  const comm::GpuPlan plan = comm::plan_gpus(ids, cfg.model.share_gpus, topo.worker_rank(0));
  if (!plan.error.empty()) throw std::runtime_error(plan.error);
  return device;
}

}  // namespace signvote::worker
