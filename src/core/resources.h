// Resources a run needs, checked on every rank before round 1 so that a run
// the machines cannot hold stops with the figure instead of std::bad_alloc
// or a crash in the middle of training.
#pragma once

#include "signvote/config.h"

#include <cstdint>
#include <string>

namespace signvote {

// Estimated bytes of the large buffers one rank allocates (server: vote
// rows or dense gradient rows; worker: model parameters, gradients,
// optimiser state, activations, data). An estimate, not an exact count.
uint64_t estimate_rank_bytes(const Config& cfg, bool server);

// Collective over MPI_COMM_WORLD: sums the estimate over the ranks that share
// this node and compares it with the node's MemAvailable; checks run.threads
// against the CPUs a worker may use. Returns this rank's error ("" = ok),
// to be agreed with agree_or_throw().
std::string check_resources(const Config& cfg, bool server);

// CPUs this process may run on (affinity mask), at least 1.
int usable_cpus();
// MemAvailable of this machine in bytes (/proc/meminfo), 0 when unknown.
uint64_t mem_available();
// "1.5 GiB"
std::string human_bytes(uint64_t bytes);
// Throws std::invalid_argument "<what> needs about X, but this machine has Y
// available" when `bytes` exceeds mem_available().
void require_memory(uint64_t bytes, const std::string& what);

}  // namespace signvote
