#include "config/run_plan.h"

#include "config/param_count.h"
#include "methods/registry.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace signvote {

nn::ModelSpec model_spec(const Config& cfg) {
  nn::ModelSpec spec;
  spec.name = cfg.model.kind;
  spec.width = static_cast<int>(cfg.model.width);
  spec.seed = cfg.run.seed;  // same seed on every worker: identical initial weights
  spec.threads = static_cast<int>(cfg.run.threads);
  spec.device = cfg.model.device_kind;
  spec.math = cfg.model.math_kind;
  spec.workspace_mb = static_cast<int>(cfg.model.workspace_mb);
  spec.layout = cfg.model.layout_kind;
  return spec;
}

size_t model_dim(const Config& cfg) {
  if (cfg.model.kind == ModelName::quadratic || cfg.model.kind == ModelName::external) return static_cast<size_t>(cfg.model.dim);
  return static_cast<size_t>(count_params(model_spec(cfg)));  // from the architecture: no model is built
}

double lr_at(const OptimizerConfig& o, uint64_t step, double progress) { return lr_at(o, o.lr, step, progress); }

double lr_at(const OptimizerConfig& o, double base_lr, uint64_t step, double progress) {
  double lr = base_lr;
  if (o.schedule_kind == LrSchedule::constant) return lr;
  const bool warming = o.warmup_steps > 0 && step <= static_cast<uint64_t>(o.warmup_steps);
  const double warm = warming ? static_cast<double>(step) / static_cast<double>(o.warmup_steps) : 1.0;
  const double p = std::clamp(progress, 0.0, 1.0);
  if (o.schedule_kind == LrSchedule::cosine) return lr * warm * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
  if (o.schedule_kind == LrSchedule::linear) return lr * warm * (1.0 - p);
  if (o.schedule_kind == LrSchedule::warmup_step && warming) return lr * warm;
  if (warming) lr *= warm;  // step with optimizer.warmup_steps
  for (int64_t m : o.milestones)
    if (step > static_cast<uint64_t>(m)) lr *= o.gamma;
  for (double f : o.milestone_fractions)
    if (p >= f) lr *= o.gamma;
  return lr;
}

double budget_progress(const RunConfig& r, uint64_t step, double elapsed_s) {
  double p = r.steps > 0 ? static_cast<double>(step) / static_cast<double>(r.steps) : 0.0;
  if (r.time_limit_s > 0) p = std::max(p, elapsed_s / r.time_limit_s);
  return std::clamp(p, 0.0, 1.0);
}

uint64_t round_steps(const Config& cfg) { return static_cast<uint64_t>(std::max<int64_t>(1, cfg.aggregation.local_steps)); }

OptimizerConfig inner_rule(const Config& cfg) {
  const InnerConfig& in = cfg.inner;
  OptimizerConfig o;
  const bool adamw = in.kind == InnerName::adamw;
  o.kind = adamw ? OptimizerName::adamw : OptimizerName::sgd;
  o.name = adamw ? "adamw" : "sgd";
  o.lr = in.lr;
  o.momentum = adamw ? in.betas.at(0) : in.momentum;
  o.beta2 = in.betas.at(1);
  o.eps = in.eps;
  o.weight_decay = in.weight_decay;
  o.schedule = in.schedule;
  o.schedule_kind = in.schedule_kind;
  o.warmup_steps = in.warmup_steps;
  return o;
}

RoundKind round_kind(const Config& cfg) { return methods::method_of(cfg).round_kind(); }

size_t bucket_coords(const Config& cfg) { return static_cast<size_t>(cfg.aggregation.bucket_bytes) / 4; }

bool reports_only(const Config& cfg) {
  const RoundKind k = round_kind(cfg);
  return k == RoundKind::allreduce || (k == RoundKind::vote && cfg.aggregation.transport_kind == VoteTransport::alltoall);
}

bool schedule_drives_lr(const OptimizerConfig& o) { return o.schedule_kind != LrSchedule::constant; }

std::vector<double> group_lrs(const Config& cfg) {
  return cfg.optimizer.groups.empty() ? std::vector<double>{cfg.optimizer.lr} : cfg.optimizer.group_lr;
}

std::vector<double> group_weight_decays(const Config& cfg) {
  return cfg.optimizer.groups.empty() ? std::vector<double>{cfg.optimizer.weight_decay} : cfg.optimizer.group_weight_decay;
}

comm::VoteTail vote_tail(const Config& cfg) {
  return comm::VoteTail(cfg.model.tensors, std::max<size_t>(1, cfg.optimizer.groups.size()));
}

comm::RoundFormat round_format(const Config& cfg) {
  const comm::VoteTail tail = vote_tail(cfg);
  if (tail.active() && round_kind(cfg) == RoundKind::vote) return comm::RoundFormat::sign_bits(tail);
  return methods::method_of(cfg).round_format(cfg.aggregation);
}

}  // namespace signvote
