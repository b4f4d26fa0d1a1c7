// A worker whose model lives outside signvote -- the PyTorch binding's
// (python/). Its parameters and gradients are flat float32 buffers the
// caller owns, and it computes the gradients itself. It joins one MPMD job
// with the C++ server ranks of `signvote serve` and speaks the same
// validated protocol (protocol.h):
//
//   mpirun -np 1 signvote serve cfg.yaml : -np 4 python3 train.py
//
// The server's config (cfg.yaml) reaches every worker at the join; each
// worker applies its own settings to it (the optimizer, say), and every
// worker's result must be the same.
#pragma once

#include "signvote/device.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace signvote {

// dim floats each; cuda: device pointers on CUDA device `device` (-1: the
// device current when the worker is built), with `stream` the cudaStream_t
// the round's kernels and host copies are queued on. Every ExternalWorker
// call that touches device memory makes `device` current for its duration
// and restores the caller's device after, so a model on cuda:1 works while
// the caller's current device is 0.
struct ExternalMemory {
  float* params = nullptr;
  float* grads = nullptr;
  size_t dim = 0;
  MemSpace space = MemSpace::host;
  void* stream = nullptr;
  int device = -1;
};

// The job could not start: no server (no_server), or a setup error on some
// rank, named in what().
struct JoinError : std::runtime_error {
  JoinError(const std::string& what, bool no_server) : std::runtime_error(what), no_server(no_server) {}
  bool no_server;
};

// A round was refused: `cause` is the protocol's error name (step_mismatch,
// length_mismatch, bad_version, nan_gradient, hash_mismatch, worker_failed,
// worker_left, ...) and `rank` the offending world rank (-1: unknown).
struct RunStopped : std::runtime_error {
  RunStopped(const std::string& what, std::string cause, int rank)
      : std::runtime_error(what), cause(std::move(cause)), rank(rank) {}
  std::string cause;
  int rank;
};

// One step's parameter tensors and groups, when the settings name them
// (model.tensors, optimizer.groups, optimizer.group_lr/_weight_decay; the
// PyTorch binding sets them). present (tensors,): nonzero = this worker has
// a gradient for that tensor (zero: it abstains; protocol.h "Parameter
// tensors"); lr, weight_decay (groups,): what each group applies this step.
// Empty (tensors = groups = 0): every tensor present, the configured values.
struct StepGroups {
  const uint8_t* present = nullptr;
  size_t tensors = 0;
  const float* lr = nullptr;
  const float* weight_decay = nullptr;
  size_t groups = 0;
};

class ExternalWorker {
 public:
  // Collective over MPI_COMM_WORLD with the server ranks (MPI initialised).
  // `settings`: "key=value" strings applied to the server's config.
  ExternalWorker(const std::vector<std::string>& settings, const ExternalMemory& mem);
  ~ExternalWorker();
  ExternalWorker(const ExternalWorker&) = delete;
  ExternalWorker& operator=(const ExternalWorker&) = delete;

  int rank() const;          // world rank
  int worker_index() const;  // 0 .. workers()-1
  int workers() const;
  int servers() const;
  std::string config_yaml() const;  // the resolved config every rank runs
  uint64_t max_steps() const;       // run.steps

  // Before the first step(): continue after `step` with `elapsed_s` of the
  // time budget already spent (a state_dict() resumed).
  void resume(uint64_t step, double elapsed_s);
  // Before the first step(): this worker is new to a job resumed with more
  // workers than saved: it has no state of its own and starts at the step
  // the resumed workers agree on (zero momentum).
  void join();
  // One round at step steps_done() + 1; the caller has written the
  // gradients. Returns true when it was the last (run.steps or the time
  // limit). Throws RunStopped when the server refuses the round.
  bool step(float loss, uint32_t correct = 0, uint32_t samples = 0, const StepGroups& groups = {});
  // Every worker dropped the last round (optimizer.nonfinite: skip, a
  // worker's gradient was not finite): no parameter moved, momentum kept.
  bool skipped() const;
  uint64_t steps_done() const;
  bool finished() const;
  // Tells the server this worker is done; returns once every worker is
  // (the run ends cleanly); a no-op after the last round.
  void leave();

  // x (n,) host floats = their mean over the workers. Collective among the
  // workers only (not the servers): BatchNorm running statistics before an
  // evaluation, as the C++ workers average them.
  void average(float* x, size_t n);

  // The sign rule's momentum m (d,), on the host, and the elapsed training
  // seconds of the budget clock (for state_dict()).
  std::vector<float> momentum();
  void set_momentum(const float* m, size_t n);
  double elapsed_s() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// 64-bit hash of n floats (the weight hash the server compares).
uint64_t hash_floats(const float* x, size_t n);

}  // namespace signvote
