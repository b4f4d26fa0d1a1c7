// `signvote serve` and its PyTorch workers: one MPMD job.
//
//   mpirun -np S signvote serve cfg.yaml : -np W python3 train.py
//
// Before the Job (job.h), every rank joins (collective over
// MPI_COMM_WORLD, once):
//   1. roles     Allgather of "server or worker": the S servers must be
//                ranks 0..S-1, with at least one server and one worker
//   2. config    server 0 broadcasts its resolved config (YAML)
//   3. settings  each worker applies its settings ("key=value") and the
//                job's facts: cluster.servers = S, cluster.workers = W,
//                model.name = external, model.dim = its parameter count.
//                The first worker broadcasts its result; every worker's
//                must equal it (same optimizer, same d), and the servers
//                run it.
// Errors are agreed as in agree_or_throw(): nobody is left waiting.
#pragma once

#include "signvote/config.h"

#include <string>
#include <vector>

namespace signvote {

// Server ranks: server 0 loads cfg.yaml with --set `overrides` (a bad
// file is reported to every worker). Without run.steps in either, the run
// lasts until the workers leave. Throws ConfigError / PeerFailure.
Config join_as_server(const std::string& path, const std::vector<std::string>& overrides);
// Worker ranks: their settings and parameter count, and a local error
// found before the join ("" = none), agreed with the others. Throws JoinError.
// tensors: where this worker's tensors live ("cpu" | "cuda"); every worker
// must agree (the host and the cuda engines sum over different collectives).
Config join_as_worker(const std::vector<std::string>& settings, size_t dim, const std::string& local_error = "",
                      const std::string& tensors = "cpu");

}  // namespace signvote
