#include "config/combinations.h"

#include "methods/registry.h"

#include <fmt/format.h>

namespace signvote {
namespace {

bool vote(const Config& c) { return methods::method_of(c).round_kind() == RoundKind::vote; }
bool alltoall(const Config& c) { return c.aggregation.transport_kind == VoteTransport::alltoall; }
bool node(const Config& c) { return c.cluster.hierarchy_kind == Hierarchy::node; }
bool deadline(const Config& c) { return c.cluster.round_deadline_ms > 0; }
bool simulated(const Config& c) {
  const AdversaryMode m = c.adversary.mode_kind;
  return c.adversaries() > 0 && (m == AdversaryMode::collude || m == AdversaryMode::alie || m == AdversaryMode::ipm);
}
// "key 'K' needs aggregation.method = majority_vote, got M"
std::string needs_vote(const char* key, const Config& c) {
  return fmt::format("key '{}' needs aggregation.method = majority_vote, got {}", key, c.aggregation.method);
}

bool sign_optimizer(const Config& c) {
  const OptimizerName o = c.optimizer.kind;
  return o == OptimizerName::signsgd || o == OptimizerName::signum || o == OptimizerName::lion;
}

const std::vector<Refusal> kTable = {
    {"optimizer.name=sgd|adam|adamw + aggregation.method=majority_vote",
     "the vote carries signs: the worker's optimizer is the sign rule (signsgd, signum or lion)",
     [](const Config& c) { return methods::method_of(c).takes_sign_optimizer() && !sign_optimizer(c); },
     [](const Config& c) {
       return fmt::format("key 'optimizer.name' = {} cannot be used with aggregation.method = {} (use signsgd, signum or lion)",
                          c.optimizer.name, c.aggregation.method);
     }},
    {"optimizer.name=signsgd|signum|lion + a dense method",
     "dense methods return an fp32 gradient, which SGD or Adam applies",
     [](const Config& c) { return !methods::method_of(c).takes_sign_optimizer() && sign_optimizer(c); },
     [](const Config& c) {
       return fmt::format("key 'optimizer.name' = {} needs aggregation.method = majority_vote ({} takes sgd, adam or adamw)",
                          c.optimizer.name, c.aggregation.method);
     }},
    {"cluster.servers>1 + a method that cannot be sharded (multi_krum, coordinate_median, allreduce, ...)",
     "the method's rule needs every coordinate of a worker's gradient on one server (its own reason is printed)",
     [](const Config& c) { return c.cluster.servers != 1 && !methods::method_of(c).shardable(); },
     [](const Config& c) {
       return fmt::format("key 'cluster.servers' must be 1 with aggregation.method = {} ({})", c.aggregation.method,
                          methods::method_of(c).unshardable_reason());
     }},
    {"adversary.mode=collude + a dense method; adversary.mode=alie|ipm + majority_vote",
     "a simulated attack forges rows of the method it targets: collude the vote, alie and ipm a dense aggregator",
     [](const Config& c) {
       const RoundKind kind = methods::method_of(c).round_kind();
       return simulated(c) && (c.adversary.mode_kind == AdversaryMode::collude ? kind != RoundKind::vote : kind != RoundKind::dense);
     },
     [](const Config& c) {
       if (c.adversary.mode_kind == AdversaryMode::collude)
         return fmt::format("key 'adversary.mode' = collude attacks the vote: it needs aggregation.method = majority_vote, got {}",
                            c.aggregation.method);
       return fmt::format("key 'adversary.mode' = {} attacks a dense aggregator: it needs aggregation.method = {}, got {}",
                          c.adversary.mode, methods::method_list(RoundKind::dense), c.aggregation.method);
     }},
    {"aggregation.overlap | aggregation.bucket_bytes | aggregation.transport=alltoall | cluster.hierarchy=node + a dense method",
     "the parts, the exchanges and the node's leader carry packed signs; dense methods send fp32 or QSGD payloads to a server",
     [](const Config& c) {
       return !vote(c) && (c.aggregation.overlap || c.aggregation.bucket_bytes > 0 || alltoall(c) || node(c));
     },
     [](const Config& c) {
       if (c.aggregation.overlap) return needs_vote("aggregation.overlap", c);
       if (alltoall(c))
         return fmt::format("key 'aggregation.transport' = alltoall needs aggregation.method = majority_vote, got {}", c.aggregation.method);
       if (c.aggregation.bucket_bytes > 0) return needs_vote("aggregation.bucket_bytes", c);
       return fmt::format("key 'cluster.hierarchy' = node needs aggregation.method = majority_vote, got {}", c.aggregation.method);
     }},
    {"optimizer.nonfinite=skip + a dense method | aggregation.overlap | aggregation.transport=alltoall | cluster.hierarchy=node",
     "every worker must learn of a non-finite gradient before any part is sent, through the servers' RESULT",
     [](const Config& c) {
       return c.optimizer.nonfinite_kind == NonFinite::skip &&
              (!vote(c) || c.aggregation.overlap || alltoall(c) || node(c));
     },
     [](const Config& c) {
       const char* with = !vote(c) ? "a dense aggregation.method" : c.aggregation.overlap ? "aggregation.overlap"
                          : alltoall(c) ? "aggregation.transport = alltoall" : "cluster.hierarchy = node";
       return fmt::format("key 'optimizer.nonfinite' = skip needs majority_vote through the server shards, without "
                          "overlap: it cannot be combined with {}", with);
     }},
    {"cluster.round_deadline_ms + a dense method",
     "a late vote abstains; a dense aggregator has no abstention",
     [](const Config& c) { return deadline(c) && !vote(c); },
     [](const Config& c) {
       return fmt::format("key 'cluster.round_deadline_ms' needs aggregation.method = majority_vote (a late vote abstains; {} has no abstention)",
                          c.aggregation.method);
     }},
    {"aggregation.transport=alltoall + cluster.servers>1",
     "the server only validates the workers' reports; the workers tally",
     [](const Config& c) { return alltoall(c) && c.cluster.servers != 1; },
     [](const Config&) -> std::string {
       return "key 'aggregation.transport' = alltoall needs cluster.servers = 1 (the server only validates reports; the workers tally)";
     }},
    {"aggregation.transport=alltoall + cluster.round_deadline_ms",
     "a collective has no deadline: every worker takes part in every round",
     [](const Config& c) { return alltoall(c) && deadline(c); },
     [](const Config&) -> std::string {
       return "key 'aggregation.transport' = alltoall cannot be combined with cluster.round_deadline_ms (a collective has no deadline: every worker takes part in every round)";
     }},
    {"aggregation.transport=alltoall + aggregation.bucket_bytes",
     "the chunks go in one collective: buckets would change nothing",
     [](const Config& c) { return alltoall(c) && c.aggregation.bucket_bytes > 0; },
     [](const Config&) -> std::string {
       return "key 'aggregation.bucket_bytes' has no effect with aggregation.transport = alltoall (its chunks go in one collective): remove one";
     }},
    {"aggregation.bucket_bytes + cluster.round_deadline_ms",
     "the server's deadline is per round, not per bucket",
     [](const Config& c) { return c.aggregation.bucket_bytes > 0 && deadline(c); },
     [](const Config&) -> std::string {
       return "keys 'aggregation.bucket_bytes' and 'cluster.round_deadline_ms' cannot be combined yet (the deadline is per round, not per bucket)";
     }},
    {"adversary.mode=collude|alie|ipm + cluster.hierarchy=node | cluster.round_deadline_ms | aggregation.transport=alltoall",
     "the server simulates these attacks over every worker's row, so it must receive every worker's row every round",
     [](const Config& c) { return simulated(c) && (node(c) || deadline(c) || alltoall(c)); },
     [](const Config& c) {
       return fmt::format("key 'adversary.mode' = {} is simulated by the server over every worker's row: it cannot be combined with cluster.hierarchy: node, cluster.round_deadline_ms or aggregation.transport: alltoall",
                          c.adversary.mode);
     }},
    {"aggregation.overlap + adversary.mode=negative|random|gaussian|alie|ipm",
     "these corrupt the whole gradient after the backward pass, when overlapped parts have already been sent",
     [](const Config& c) {
       return c.aggregation.overlap && c.adversaries() > 0 && c.adversary.mode_kind != AdversaryMode::invert && c.adversary.mode_kind != AdversaryMode::collude;
     },
     [](const Config& c) {
       return fmt::format("key 'aggregation.overlap' needs adversary.mode = invert: {} corrupts the whole gradient after the backward pass, when shards have already been sent",
                          c.adversary.mode);
     }},
    {"faults.wrong_step_rank + cluster.hierarchy=node | aggregation.transport=alltoall",
     "the fault forges one worker's own VOTE header to a server; there the node leader or the all-to-all sends for it",
     [](const Config& c) { return c.faults.wrong_step_rank >= 0 && (node(c) || alltoall(c)); },
     [](const Config&) -> std::string {
       return "key 'faults.wrong_step_rank' needs every worker to send its own votes to the servers (not cluster.hierarchy: node or aggregation.transport: alltoall)";
     }},
    {"model.device=cuda + model.name=quadratic",
     "the toy quadratic runs on the CPU",
     [](const Config& c) { return c.model.device_kind == ModelDevice::cuda && c.model.kind == ModelName::quadratic; },
     [](const Config&) -> std::string {
       return "key 'model.device' = cuda needs a network (model.name = resnet18 | small_cnn | mlp); the quadratic runs on the CPU";
     }},
    {"model.layout=nhwc + model.device=cpu",
     "the CPU layers are NCHW",
     [](const Config& c) { return c.model.layout_kind == ModelLayout::nhwc && c.model.device_kind != ModelDevice::cuda; },
     [](const Config& c) {
       return fmt::format("key 'model.layout' = nhwc needs model.device = cuda (the CPU layers are nchw), got model.device = {}",
                          c.model.device);
     }},
};

// `signvote serve`: what PyTorch workers cannot run. A leaving worker must
// reach every server in its own VOTE, and a run lasts until they leave.
const std::vector<Refusal> kServeTable = {
    {"signvote serve + a dense method",
     "PyTorch workers vote: their optimizer packs signs (majority_vote)",
     [](const Config& c) { return !vote(c); },
     [](const Config& c) {
       return fmt::format("key 'aggregation.method' = {}: PyTorch workers vote (majority_vote)", c.aggregation.method);
     }},
    {"signvote serve + cluster.hierarchy=node",
     "a leaving PyTorch worker must reach every server in its own VOTE; a node leader would vote for it",
     [](const Config& c) { return node(c); },
     [](const Config&) -> std::string { return "key 'cluster.hierarchy' = node is not available to PyTorch workers"; }},
    {"signvote serve + aggregation.transport=alltoall",
     "a leaving PyTorch worker must reach every server in its own VOTE; the all-to-all needs every worker every round",
     [](const Config& c) { return alltoall(c); },
     [](const Config& c) {
       return fmt::format("key 'aggregation.transport' = {} is not available to PyTorch workers", c.aggregation.transport);
     }},
    {"signvote serve + cluster.round_deadline_ms",
     "a late PyTorch worker cannot catch up from queued results (its step() returns the round it voted in)",
     [](const Config& c) { return deadline(c); },
     [](const Config&) -> std::string { return "key 'cluster.round_deadline_ms' > 0 is not available to PyTorch workers"; }},
    {"signvote serve + a decaying optimizer.schedule without run.steps or run.time_limit_s",
     "the run lasts until the workers leave: a schedule needs a budget to decay over",
     [](const Config& c) {
       const auto& o = c.optimizer;
       const bool decays = o.schedule_kind == LrSchedule::cosine || o.schedule_kind == LrSchedule::linear ||
                           !o.milestone_fractions.empty();
       return decays && c.run.steps == kServeSteps && c.run.time_limit_s <= 0;
     },
     [](const Config& c) {
       return fmt::format("key 'optimizer.schedule' = {} needs a budget to decay over: run.steps (VoteOptimizer(steps=N)) "
                          "or run.time_limit_s; this run lasts until the workers leave", c.optimizer.schedule);
     }},
};

}  // namespace

const std::vector<Refusal>& refusals() { return kTable; }

const std::vector<Refusal>& serve_refusals() { return kServeTable; }

const Refusal* refused(const Config& c) {
  for (const Refusal& r : kTable)
    if (r.refuses(c)) return &r;
  return nullptr;
}

const Refusal* refused_in_serve(const Config& c) {
  for (const Refusal& r : kServeTable)
    if (r.refuses(c)) return &r;
  return nullptr;
}

std::string explain_refusals() {
  std::string out =
      "signvote refuses these combinations of keys (everything else composes: server shards or alltoall,\n"
      "with or without cluster.hierarchy: node, aggregation.overlap and aggregation.bucket_bytes):\n";
  for (const Refusal& r : kTable) out += fmt::format("  {}\n      {}\n", r.keys, r.why);
  out += "signvote serve (PyTorch workers) refuses besides:\n";
  for (const Refusal& r : kServeTable) out += fmt::format("  {}\n      {}\n", r.keys, r.why);
  out += "Each method adds its own checks (optimizer family, cluster.servers): see docs/extending.md.\n";
  return out;
}

}  // namespace signvote
