// Run checkpoints: one file per save, written by worker 0 after gathering
// every worker's non-voted state (see docs/checkpoint.md for the format).
// When every worker sees the checkpoint directory (a shared file system),
// each worker writes its own optimizer arrays to its part file instead
// (CheckpointDir, "parts"): no (W-1)*d floats cross the network to worker 0.
//
//   arrays   params (d,)            identical on every worker
//            momentum.K (d,)        worker K's OptimizerState m: Signum / SGD / Adam-m buffer
//            adam_v.K (d,)          its v: Adam's second moment (adam only)
//            ef_residual.K (d,)     its e: the error-feedback residual (ef_sign only)
//            buffers.K (b,)         worker K's BatchNorm running statistics
//            buffers.mean (b,)      their mean over workers (used by `eval`)
//   scalars  step, workers, dim, run_id, elapsed_ms; parts = W when the
//            optimizer arrays (momentum.K, adam_v.K, ef_residual.K) lie in
//            worker K's part file (scalars step, run_id, worker) instead
//   blobs    config (resolved YAML), state.K (worker K's RNG / data order)
#pragma once

#include "comm/topology.h"
#include "formats/checkpoint.h"
#include "signvote/config.h"
#include "worker/optimizer_state.h"
#include "worker/problem.h"

#include <cstdint>
#include <filesystem>
#include <future>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace signvote::worker {

// Where a checkpoint sits in its run.
struct RunPoint {
  uint64_t step = 0;     // taken after this step
  uint64_t run_id = 0;
  double elapsed_s = 0;  // training seconds so far (the RESULT header's elapsed_s)
};

// What one worker hands its writer at a checkpoint.
struct Snapshot {
  std::optional<data::Checkpoint> part;  // its own optimizer arrays (per-worker writes)
  std::optional<data::Checkpoint> main;  // worker 0: DIR/ckpt-<step>.ckpt
  int worker = 0, workers = 1;
  uint64_t step = 0;
  double snapshot_s = 0;                 // the snapshot's seconds in the round (the log line)
};

// Every worker's background writer: write() hands a finished snapshot to a
// thread and returns, so the rounds do not wait for the disk. One write runs
// at a time: a write() while one is in flight waits for it first (memory: the
// snapshot being written and the one being made, no more). A failed write
// throws from the next write() or finish(), naming the file (the run stops).
// The part is written before the main file (CheckpointDir: completeness).
class CheckpointWriter {
 public:
  explicit CheckpointWriter(data::CheckpointDir& dir) : dir_(dir) {}
  ~CheckpointWriter();  // waits for a write in flight (errors were the caller's to collect)
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;
  void write(Snapshot s);
  void finish();  // waits for the write in flight; rethrows its error
  const data::CheckpointDir& dir() const { return dir_; }
  // Agreed at the first checkpoint (save_run_checkpoint): per-worker writes,
  // and worker 0's run id (the other workers of a new run drew their own).
  struct Agreed {
    bool per_worker = false;
    uint64_t run_id = 0;
  };
  std::optional<Agreed> agreed;

 private:
  data::CheckpointDir& dir_;
  std::future<void> pending_;
};

// Collective over the workers. Brings the model's params and buffers and the
// optimizer state to the host (Problem::pull, OptimizerState::to_host), then
// snapshots them, and the writers write in the background: worker 0
// DIR/ckpt-<step>.ckpt (then DIR/latest.ckpt points at it), and with
// per-worker writes every worker its part. The first call agrees on
// per-worker writes: every worker sees DIR/signvote-run naming worker 0's
// `at.run_id`.
void save_run_checkpoint(const Config& cfg, const comm::Topology& topo, const RunPoint& at, Problem& p,
                         OptimizerState& opt, CheckpointWriter& writer);

// Bytes of one checkpoint of this run (free-space check before round 1).
uint64_t checkpoint_bytes(Problem& p, const OptimizerState& opt, int workers);

struct ResumePoint {
  std::filesystem::path file;  // the checkpoint read
  uint64_t step = 0;           // the step it was taken after
  uint64_t run_id = 0;         // its run id (0: written before run ids)
  double elapsed_s = 0;        // training seconds up to that step (server 0's clock; 0 if not recorded)
};

// Every worker reads `path` (a file, or a directory holding latest.ckpt),
// restores its own part and sends it to the device (Problem::push,
// OptimizerState::to_device). Throws if key 'run.steps' is not beyond its step.
ResumePoint load_run_checkpoint(const std::filesystem::path& path, const Config& cfg, const comm::Topology& topo,
                                Problem& p, OptimizerState& opt);

// The two halves without MPI (tests/worker/test_checkpointing.cpp checks them
// against the layout above, which checkpoints written before the
// OptimizerState class share):
// What worker 0 gathered, in gather order: each of opt.arrays() (W*n floats;
// empty with per-worker writes: the main file then says parts = W), the
// buffers (W*b floats), the problems' states (W blobs).
struct Gathered {
  std::vector<std::vector<float>> state;
  std::vector<float> buffers;
  std::vector<std::string> states;
};
data::Checkpoint make_checkpoint(const Config& cfg, const RunPoint& at, std::span<const float> params,
                                 OptimizerState& opt, const Gathered& g, int workers);
// Worker k's part: its optimizer arrays as <name>.<k>, scalars step, run_id, worker.
data::Checkpoint make_part(const RunPoint& at, OptimizerState& opt, int k);
// Worker k's part of `c` into p's host spans (params, buffers, state) and
// opt's buffers; throws naming `file` and the array that is missing or of
// the wrong size. Another worker count than the checkpoint's W: worker
// k < W takes its own part (its data shard re-cut, Problem::restore_state);
// k >= W is new: zero optimizer state, buffers.mean, and the data position
// of state.0 (Problem::join_state).
void restore_worker(const data::Checkpoint& c, const std::filesystem::path& file, int k, Problem& p,
                    OptimizerState& opt);

// Resolves DIR/latest.ckpt or a file path; throws naming the path if absent.
std::filesystem::path resolve_checkpoint(const std::filesystem::path& path);

}  // namespace signvote::worker
