// StepEngine: where a worker's per-round arithmetic runs, chosen once from
// the problem's memory space (never a mode flag in the round code).
//
//   host: the CPU sign kernels on host spans; MPI_Allreduce for the fp32
//         baseline; the host SGD/Adam.
//   cuda: (step_engine_cuda.cpp) momentum, parameters and gradients stay
//         on the device. Per round only the packed words cross:
//           device m, g --momentum_pack kernel--> device words (d/32)
//           --copy--> page-locked host words --> VOTE message ... MPI ...
//           RESULT message --> page-locked words --copy--> device --apply--> x
//         The fp32 baseline sums g with NCCL (bootstrapped over MPI) and
//         runs the CUDA twin of the host SGD/Adam.
// Both update the worker's OptimizerState (optimizer_state.h): the host
// engine its host buffers, the cuda engine its device copy, attached to the
// state, which is the one sync point (to_host / to_device).
#pragma once

#include "comm/topology.h"
#include "signvote/sign_kernels.h"
#include "worker/optimizer.h"
#include "worker/optimizer_state.h"
#include "worker/param_groups.h"
#include "worker/problem.h"
#include "worker/exchange.h"
#include "worker/server_exchange.h"

#include <memory>
#include <span>

namespace signvote::worker {

// The worker's sign rule, from optimizer.name:
//   signum / signsgd (beta1 = 0):  m = b1 m + (1-b1) g; vote sign(m)
//   lion:  vote sign(b1 m + (1-b1) g); then m = b2 m + (1-b2) g
struct SignRule {
  float beta1 = 0, beta2 = 0;
  bool lion = false;
};

class StepEngine {
 public:
  virtual ~StepEngine() = default;
  // The sign rule for every range of `client`: the packed signs go into the
  // outgoing words (invert: the adversary's sign flip), the state's m is
  // updated.
  // Returns the number of NaNs met.
  virtual size_t momentum_pack(SignSlots& client, const SignRule& rule, bool invert) = 0;
  // x -= lr (s + wd x) with the voted words of every part, over `ranges`
  // (ApplyRange: each its own lr and wd; coordinates in none stay).
  virtual void apply(const SignSlots& client, std::span<const ApplyRange> ranges) = 0;
  // The same for part s alone (aggregation.overlap: parts are packed as
  // their gradients become final and applied as their results arrive).
  virtual size_t momentum_pack_part(SignSlots& client, size_t s, const SignRule& rule, bool invert) = 0;
  virtual void apply_part(const SignSlots& client, size_t s, std::span<const ApplyRange> ranges) = 0;
  // The momentum of `extents` kept aside before a pack, and put back after
  // it (a tensor without a gradient, a skipped round: m as if no step ran).
  virtual void save_momentum(std::span<const Extent> extents) = 0;
  virtual void restore_momentum(std::span<const Extent> extents) = 0;
  // NaNs in g (the fp32 baseline checks before summing).
  virtual size_t count_nan_grads() = 0;
  // Hierarchy: g[offset, offset + length) = its mean over the node's workers
  // (collective over topo.node_comm(); cuda: NCCL on the device unless GPUs
  // are shared). length = SIZE_MAX: to the end.
  virtual void node_average(size_t offset = 0, size_t length = SIZE_MAX) = 0;
  // fp32 baseline: g = sum of g over the workers (collective over them),
  // then opt's update of x and the state with g * grad_scale (1/W).
  virtual void allreduce_grads() = 0;
  virtual void dense_step(const DenseOptimizer& opt, uint64_t step, float grad_scale) = 0;
};

// state: the worker's (m is the vote's momentum, or the baseline's SGD/Adam m).
// threads: run.threads, the slices the sign kernels run in.
std::unique_ptr<StepEngine> make_host_engine(Problem& p, const comm::Topology& topo, const kernels::SignOps& ops,
                                             OptimizerState& state, int threads = 1);
// The cuda engine keeps a device copy of the state's m (and v) when it
// updates them: in the vote, and with device_dense, the all-reduce baseline
// (the server-aggregated dense methods update on the host, through the
// problem's mirrors and the state's host buffers). It attaches that copy to
// `state`. Throws std::invalid_argument in a build without the cuda workers.
std::unique_ptr<StepEngine> make_cuda_engine(Problem& p, const comm::Topology& topo, ServerExchange& client,
                                             OptimizerState& state, bool vote, bool device_dense);

}  // namespace signvote::worker
