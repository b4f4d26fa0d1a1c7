#include "core/resources.h"

#include "comm/mpi_calls.h"
#include "config/run_plan.h"

#include <fmt/format.h>
#include <sched.h>

#include <fstream>
#include <string>
#include <thread>

namespace signvote {
namespace {

constexpr uint64_t kCifarImages = 50000, kCifarRecordBytes = 3073;
constexpr uint64_t kActFloatsPerImagePerWidth = 30000;  // ResNet-18 activations (fwd), ~per channel of width

}  // namespace

uint64_t mem_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

int usable_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  return fmt::format("{:.1f} {}", v, units[u]);
}

void require_memory(uint64_t bytes, const std::string& what) {
  const uint64_t avail = mem_available();
  if (avail > 0 && bytes > avail)
    throw std::invalid_argument(fmt::format("{} needs about {}, but this machine has {} available", what,
                                            human_bytes(bytes), human_bytes(avail)));
}

namespace {

uint64_t model_params(const Config& cfg) { return static_cast<uint64_t>(model_dim(cfg)); }  // from the spec

}  // namespace

uint64_t estimate_rank_bytes(const Config& cfg, bool server) {
  const uint64_t d = model_params(cfg), W = static_cast<uint64_t>(cfg.cluster.workers);
  const bool vote = round_kind(cfg) == RoundKind::vote;
  if (server) {
    const uint64_t shard = d / static_cast<uint64_t>(cfg.cluster.servers) + 1;
    return vote ? (W + 2) * (shard / 8 + 64) : (W + 2) * 4 * d;  // vote rows | fp32 rows
  }
  uint64_t bytes = 4 * d * 6;  // params, grads, momentum / Adam state, EF residual, encoder
  if (cfg.model.kind != ModelName::quadratic && cfg.model.kind != ModelName::external) {
    const uint64_t B = static_cast<uint64_t>(cfg.data.batch_size), w = static_cast<uint64_t>(cfg.model.width);
    bytes += 2 * 4 * B * kActFloatsPerImagePerWidth * w;  // activations and their gradients
    bytes += kCifarImages * kCifarRecordBytes;            // the uint8 training + validation images
  }
  return bytes;
}

std::string check_resources(const Config& cfg, bool server) {
  std::string error;
  if (!server && cfg.run.threads > usable_cpus())
    error = fmt::format("key 'run.threads' = {} exceeds the {} CPUs this rank can use (CPU count / affinity mask)",
                        cfg.run.threads, usable_cpus());
  uint64_t mine = 0;
  try {
    mine = estimate_rank_bytes(cfg, server);
  } catch (const std::exception& e) {
    if (error.empty()) error = e.what();
  }
  MPI_Comm node = comm::split_node(comm::world());
  const uint64_t total = comm::allreduce_one(mine, comm::Op::sum, node);
  const int ranks = comm::allreduce_one(1, comm::Op::sum, node);
  comm::free_comm(node);
  const uint64_t avail = mem_available();
  if (error.empty() && avail > 0 && total > avail)
    error = fmt::format("{}: this run needs about {} of memory on this node ({} ranks; this rank {}: model.name = {}, "
                        "{} parameters, cluster.workers = {}), but the node has {} available",
                        cfg.origin, human_bytes(total), ranks, human_bytes(mine), cfg.model.name, model_params(cfg),
                        cfg.cluster.workers, human_bytes(avail));
  return error;
}

}  // namespace signvote
