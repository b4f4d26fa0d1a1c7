// Run checkpoints: one file per save, written by worker 0 after gathering
// every worker's non-voted state (see docs/checkpoint.md for the format).
//
//   arrays   params (d,)            identical on every worker
//            momentum.K (d,)        worker K's Signum / SGD / Adam-m buffer
//            adam_v.K (d,)          worker K's Adam second moment (adam only)
//            ef_residual.K (d,)     worker K's error-feedback residual (ef_sign only)
//            buffers.K (b,)         worker K's BatchNorm running statistics
//            buffers.mean (b,)      their mean over workers (used by `eval`)
//   scalars  step, workers, dim, run_id
//   blobs    config (resolved YAML), state.K (worker K's RNG / data order)
#pragma once

#include "comm/topology.h"
#include "formats/checkpoint.h"
#include "signvote/config.h"
#include "worker/problem.h"

#include <cstdint>
#include <filesystem>
#include <span>

namespace signvote::worker {

// The optimiser state a worker owns besides the problem.
struct OptimizerState {
  std::span<float> m;  // momentum (may be empty)
  std::span<float> v;  // adam second moment (may be empty)
  std::span<float> e;  // error-feedback residual (ef_sign; may be empty)
};

// Where a checkpoint sits in its run.
struct RunPoint {
  uint64_t step = 0;     // taken after this step
  uint64_t run_id = 0;
  double elapsed_s = 0;  // training seconds so far (the RESULT header's elapsed_s)
};

// Collective over the workers. Worker 0 writes DIR/ckpt-<step>.ckpt and
// points DIR/latest.ckpt at it.
void save_run_checkpoint(const Config& cfg, const comm::Topology& topo, const RunPoint& at, Problem& p,
                         const OptimizerState& opt, data::CheckpointDir* dir);

// Bytes of one checkpoint of this run (free-space check before round 1).
uint64_t checkpoint_bytes(Problem& p, const OptimizerState& opt, int workers);

struct ResumePoint {
  std::filesystem::path file;  // the checkpoint read
  uint64_t step = 0;           // the step it was taken after
  uint64_t run_id = 0;         // its run id (0: written before run ids)
  double elapsed_s = 0;        // training seconds up to that step (server 0's clock; 0 if not recorded)
};

// Every worker reads `path` (a file, or a directory holding latest.ckpt) and
// restores its own part. Throws if key 'run.steps' is not beyond its step.
ResumePoint load_run_checkpoint(const std::filesystem::path& path, const Config& cfg, const comm::Topology& topo,
                                Problem& p, const OptimizerState& opt);

// A fresh run id (64 random bits, never 0).
uint64_t new_run_id();

// Resolves DIR/latest.ckpt or a file path; throws naming the path if absent.
std::filesystem::path resolve_checkpoint(const std::filesystem::path& path);

}  // namespace signvote::worker
