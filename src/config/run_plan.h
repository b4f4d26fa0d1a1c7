// What a configuration implies, shared by the server and the worker (so the
// server never includes worker headers): the model a worker builds, the
// parameter count d both sides size their buffers by, and the learning rate
// at each step (the worker applies it, the server logs it).
#pragma once

#include "comm/wire.h"
#include "methods/method.h"
#include "signvote/config.h"
#include "signvote/model.h"

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <vector>

namespace signvote {

// The network `cfg` names (model.name other than quadratic): same seed on
// every worker, so the initial weights are identical.
nn::ModelSpec model_spec(const Config& cfg);
// Parameters d: model.dim for the quadratic (and external), else the
// network's count from its spec (param_count.h; no model is built).
size_t model_dim(const Config& cfg);
// optimizer.lr under optimizer.schedule at a 1-based step. `progress` is
// the fraction of the run's budget used at that step, in [0, 1] (RESULT
// header; steps or run.time_limit_s, whichever ends first): cosine and
// linear decay over it, after optimizer.warmup_steps of linear warm-up.
double lr_at(const OptimizerConfig& o, uint64_t step, double progress = 0);
// The same schedule from another base lr (a parameter group's).
double lr_at(const OptimizerConfig& o, double base_lr, uint64_t step, double progress);
// optimizer.schedule changes the lr over the run (anything but constant):
// then the workers may not change their groups' lrs themselves.
bool schedule_drives_lr(const OptimizerConfig& o);
// Each parameter group's configured lr (optimizer.group_lr; without
// groups, one group of optimizer.lr) and weight decay.
std::vector<double> group_lrs(const Config& cfg);
std::vector<double> group_weight_decays(const Config& cfg);
// The fraction of the budget at `step` after `elapsed_s` seconds of training.
double budget_progress(const RunConfig& r, uint64_t step, double elapsed_s);

// Inner steps per round (aggregation.local_steps): rounds come at steps
// H, 2H, ... of run.steps.
uint64_t round_steps(const Config& cfg);
// Whether the round at `step` acts on a period of `every` steps (0: never):
// rounds come every `h` steps, so it is the first round at or after a
// multiple of `every` (h = 1: step % every == 0).
inline bool period_due(uint64_t step, int64_t every, uint64_t h) {
  if (every <= 0) return false;
  const uint64_t e = static_cast<uint64_t>(every);
  return step / e != (step - std::min(step, h)) / e;
}
// The inner optimizer of local steps as the rule DenseOptimizer runs:
// inner.name sgd -> sgd, adamw -> adamw (momentum = betas[0], beta2 =
// betas[1]), with inner.lr, weight_decay, eps, schedule and warmup_steps.
OptimizerConfig inner_rule(const Config& cfg);

// The round aggregation.method runs (RoundKind, methods/method.h: vote |
// dense | allreduce), as its method object says; the worker's round
// strategy (worker/rounds.h) and the server's aggregation
// (server/aggregation.h) are both chosen from it.
RoundKind round_kind(const Config& cfg);
// The server sees header-only REPORTs (and validates them) while the workers
// exchange the data among themselves: allreduce, and majority_vote with
// aggregation.transport = alltoall.
bool reports_only(const Config& cfg);
// Coordinates per bucket (comm::plan_ranges) from aggregation.bucket_bytes,
// which counts fp32 gradient bytes as PyTorch DDP's bucket_cap_mb does.
size_t bucket_coords(const Config& cfg);
// Payload sizes of the round's VOTE and RESULT messages (the method's).
// With model.tensors (PyTorch workers) a vote's payloads carry the tail
// (comm/vote_tail.h): presence bits and the groups' lr and weight decay.
comm::RoundFormat round_format(const Config& cfg);
// The tail of the workers' tensors (inactive without model.tensors).
comm::VoteTail vote_tail(const Config& cfg);

}  // namespace signvote
