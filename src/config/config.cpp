// YAML + --set parsing with one-line errors that name the key and the file.
#include "signvote/config.h"

#include "config/config_schema.h"
#include "methods/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <fstream>
#include <map>
#include <sstream>

namespace signvote {
namespace {

using detail::config_schema;
using detail::KeySpec;

const KeySpec* find_key(const std::string& key) {
  for (const auto& k : config_schema())
    if (k.key == key) return &k;
  return nullptr;
}

void set_value(Config& cfg, const KeySpec& spec, const YAML::Node& value, const std::string& where) {
  const auto shown = [&] {
    return value.IsScalar() ? value.Scalar() : std::string(value.IsMap() ? "<map>" : "<list>");
  };
  try {
    spec.set(cfg, value);
  } catch (const YAML::Exception&) {
    throw ConfigError(fmt::format("{}: key '{}' expects {}, got '{}'", where, spec.key, spec.type_name, shown()));
  } catch (const detail::ValueError& e) {
    throw ConfigError(fmt::format("{}: key '{}' {}, got '{}'", where, spec.key, e.what(), shown()));
  }
}

// "line N" of a node, for duplicate-key errors (yaml-cpp marks are 0-based).
std::string line_of(const YAML::Node& n) { return fmt::format("line {}", n.Mark().line + 1); }

// Flattens the two-level YAML document into "section.key" -> node.
void apply_document(Config& cfg, const YAML::Node& root, const std::string& origin) {
  if (root.IsNull()) return;
  if (!root.IsMap()) throw ConfigError(fmt::format("{}: top level must be a map of sections", origin));
  std::set<std::string> seen;  // sections and keys: YAML lets a repeated key win silently
  for (const auto& sec : root) {
    if (!sec.first.IsScalar()) throw ConfigError(fmt::format("{}: {}: a section name must be a plain word", origin, line_of(sec.first)));
    const std::string section = sec.first.as<std::string>();
    if (!seen.insert(section).second)
      throw ConfigError(fmt::format("{}: {}: section '{}' appears twice", origin, line_of(sec.first), section));
    if (!sec.second.IsMap()) {
      throw ConfigError(fmt::format("{}: '{}' must be a section (a map of keys), or it is an unknown key", origin, section));
    }
    for (const auto& kv : sec.second) {
      if (!kv.first.IsScalar()) throw ConfigError(fmt::format("{}: {}: a key must be a plain word", origin, line_of(kv.first)));
      const std::string key = section + "." + kv.first.as<std::string>();
      if (!seen.insert(key).second)
        throw ConfigError(fmt::format("{}: {}: key '{}' appears twice", origin, line_of(kv.first), key));
      const KeySpec* spec = find_key(key);
      if (!spec) throw ConfigError(fmt::format("{}: unknown key '{}' (see docs/configuration.md)", origin, key));
      set_value(cfg, *spec, kv.second, origin);
    }
  }
}

// Applies one --set; returns the key it set.
std::string apply_override(Config& cfg, const std::string& kv) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(fmt::format("--set '{}': expected key=value", kv));
  const std::string key = kv.substr(0, eq);
  const KeySpec* spec = find_key(key);
  if (!spec) throw ConfigError(fmt::format("--set: unknown key '{}' (see docs/configuration.md)", key));
  YAML::Node value;
  try {
    value = YAML::Load(kv.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("--set {}: value is not valid YAML", key));
  }
  if (value.IsNull()) value = YAML::Node(std::string());
  set_value(cfg, *spec, value, "--set");
  return key;
}

// aggregation.transport: alltoall is a collective among the workers: one
// flat vote, every worker present every round, the server on reports only.
template <class Fail>
void check_transport(const Config& c, const Fail& fail) {
  if (c.aggregation.transport != "alltoall") return;
  const auto needs = [&](bool ok, const std::string& what) {
    if (!ok) fail("key 'aggregation.transport' = alltoall " + what);
  };
  needs(methods::method_of(c).round_kind() == RoundKind::vote, "needs aggregation.method = majority_vote, got " + c.aggregation.method);
  needs(c.cluster.servers == 1, "needs cluster.servers = 1 (the server only validates reports; the workers tally)");
  needs(c.cluster.hierarchy == "none", "cannot be combined with cluster.hierarchy: node yet");
  needs(!c.aggregation.overlap, "cannot be combined with aggregation.overlap yet (the chunks go in one collective)");
  needs(c.cluster.round_deadline_ms == 0, "cannot be combined with cluster.round_deadline_ms (a collective has no deadline: every worker takes part in every round)");
}

// adversary.mode collude | alie | ipm: the server forges the adversaries'
// rows, so it must see every worker's row of the method the attack targets.
template <class Fail>
void check_simulated_attack(const Config& c, const Fail& fail) {
  const std::string& mode = c.adversary.mode;
  if (c.adversaries() == 0 || (mode != "collude" && mode != "alie" && mode != "ipm")) return;
  const std::string& m = c.aggregation.method;
  const RoundKind kind = methods::method_of(c).round_kind();
  if (mode == "collude" && kind != RoundKind::vote)
    fail(fmt::format("key 'adversary.mode' = collude attacks the vote: it needs aggregation.method = majority_vote, got {}", m));
  if (mode != "collude" && kind != RoundKind::dense)
    fail(fmt::format("key 'adversary.mode' = {} attacks a dense aggregator: it needs aggregation.method = {}, got {}", mode,
                     methods::method_list(RoundKind::dense), m));
  if (c.cluster.hierarchy == "node" || c.cluster.round_deadline_ms > 0 || c.aggregation.transport == "alltoall")
    fail(fmt::format("key 'adversary.mode' = {} is simulated by the server over every worker's row: it cannot be combined with cluster.hierarchy: node, cluster.round_deadline_ms or aggregation.transport: alltoall", mode));
  const int64_t n = c.cluster.workers, f = c.adversaries();
  if (mode == "alie" && n / 2 + 1 - f < 1)
    fail(fmt::format("key 'adversary.mode' = alie needs s = floor(n/2 + 1) - f >= 1 (Baruch et al.), but {} workers with {} adversaries give s = {}", n, f, n / 2 + 1 - f));
  if (mode == "alie" && n < 3)
    fail(fmt::format("key 'adversary.mode' = alie needs at least 3 workers (z = Phi^-1((n - f - s)/(n - f)) is -infinity for n = {})", n));
}

// What aggregation.method asks of the rest: the optimizer family, one server
// shard unless it can be sharded, then the method's own checks.
template <class Fail>
void check_method(const Config& c, const Fail& fail) {
  const methods::Method& method = methods::method_of(c);
  const bool sign_opt = c.optimizer.name == "signsgd" || c.optimizer.name == "signum" || c.optimizer.name == "lion";
  if (method.takes_sign_optimizer() && !sign_opt)
    fail(fmt::format("key 'optimizer.name' = {} cannot be used with aggregation.method = {} (use signsgd, signum or lion)",
                     c.optimizer.name, c.aggregation.method));
  if (!method.takes_sign_optimizer() && sign_opt)
    fail(fmt::format("key 'optimizer.name' = {} needs aggregation.method = majority_vote ({} takes sgd or adam)",
                     c.optimizer.name, c.aggregation.method));
  if (c.cluster.servers != 1 && !method.shardable())
    fail(fmt::format("key 'cluster.servers' must be 1 with aggregation.method = {} ({})", c.aggregation.method,
                     method.unshardable_reason()));
  method.check(c, fail);
}

void check_cross_fields(const Config& c, const std::string& origin) {
  auto fail = [&](const std::string& msg) { throw ConfigError(fmt::format("{}: {}", origin, msg)); };
  if (c.adversary.count > 0 && !c.adversary.workers.empty())
    fail("keys 'adversary.count' and 'adversary.workers' are both set: choose one");
  if (!c.adversary.workers.empty() && c.adversary.workers.back() >= c.cluster.workers)
    fail(fmt::format("key 'adversary.workers' names worker {}, but cluster.workers = {} (indices are 0-based)",
                     c.adversary.workers.back(), c.cluster.workers));
  if (c.adversary.count > c.cluster.workers)
    fail(fmt::format("key 'adversary.count' = {} exceeds cluster.workers = {}", c.adversary.count, c.cluster.workers));
  check_method(c, fail);
  if ((c.model.name == "quadratic" || c.model.name == "external") && (c.probes.every > 0 || !c.probes.epochs.empty()))
    fail(fmt::format("keys 'probes.every' / 'probes.epochs' need a network model built by signvote (model.name = {} has none)", c.model.name));
  if (c.model.name != "quadratic" && c.model.name != "external" && c.data.path.empty())
    fail(fmt::format("key 'data.path' is required for model.name = {}", c.model.name));
  const bool vote = methods::method_of(c).round_kind() == RoundKind::vote;
  if (c.aggregation.overlap && !vote)
    fail(fmt::format("key 'aggregation.overlap' needs aggregation.method = majority_vote, got {}", c.aggregation.method));
  if (c.aggregation.overlap && c.cluster.hierarchy == "node")
    fail("keys 'aggregation.overlap' and 'cluster.hierarchy: node' cannot be combined yet (the node average needs the whole gradient)");
  check_simulated_attack(c, fail);
  if (c.aggregation.overlap && c.adversaries() > 0 && c.adversary.mode != "invert" && c.adversary.mode != "collude")
    fail(fmt::format("key 'aggregation.overlap' needs adversary.mode = invert: {} corrupts the whole gradient after the backward pass, when shards have already been sent",
                     c.adversary.mode));
  check_transport(c, fail);
  if (c.aggregation.bucket_bytes > 0 && !vote)
    fail(fmt::format("key 'aggregation.bucket_bytes' needs aggregation.method = majority_vote, got {}", c.aggregation.method));
  if (c.aggregation.bucket_bytes > 0 && c.cluster.round_deadline_ms > 0)
    fail("keys 'aggregation.bucket_bytes' and 'cluster.round_deadline_ms' cannot be combined yet (the deadline is per round, not per bucket)");
  if (c.aggregation.bucket_bytes > 0 && c.aggregation.transport == "alltoall")
    fail("key 'aggregation.bucket_bytes' has no effect with aggregation.transport = alltoall (its chunks go in one collective): remove one");
  if (c.cluster.hierarchy == "node" && !vote)
    fail(fmt::format("key 'cluster.hierarchy' = node needs aggregation.method = majority_vote, got {}", c.aggregation.method));
  if (c.cluster.round_deadline_ms > 0 && !vote)
    fail(fmt::format("key 'cluster.round_deadline_ms' needs aggregation.method = majority_vote (a late vote abstains; {} has no abstention)",
                     c.aggregation.method));
  if (c.faults.delay_rank >= 0 && (c.faults.delay_rank < c.cluster.servers || c.faults.delay_rank >= c.world_size()))
    fail(fmt::format("key 'faults.delay_rank' = {} is not a worker rank ({}..{})", c.faults.delay_rank, c.cluster.servers,
                     c.world_size() - 1));
  if (c.faults.wrong_step_rank >= 0 && (c.cluster.hierarchy == "node" || c.aggregation.transport == "alltoall"))
    fail("key 'faults.wrong_step_rank' needs every worker to send its own votes to the servers (not cluster.hierarchy: node or aggregation.transport: alltoall)");
  if (c.faults.wrong_step_rank >= 0 && (c.faults.wrong_step_rank < c.cluster.servers || c.faults.wrong_step_rank >= c.world_size()))
    fail(fmt::format("key 'faults.wrong_step_rank' = {} is not a worker rank ({}..{})", c.faults.wrong_step_rank,
                     c.cluster.servers, c.world_size() - 1));
  if (c.model.device == "cuda" && c.model.name == "quadratic")
    fail("key 'model.device' = cuda needs a network (model.name = resnet18 | small_cnn | mlp); the quadratic runs on the CPU");
  if (c.model.layout == "nhwc" && c.model.device != "cuda")
    fail(fmt::format("key 'model.layout' = nhwc needs model.device = cuda (the CPU layers are nchw), got model.device = {}",
                     c.model.device));
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides) {
  Config cfg;
  cfg.origin = origin;
  for (const auto& spec : config_schema()) set_value(cfg, spec, YAML::Load(spec.default_yaml), "<defaults>");
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}: invalid YAML: {}", origin, e.mark.line + 1, e.msg));
  }
  apply_document(cfg, root, origin);
  std::set<std::string> from_set;  // a bad value from --set is blamed on --set, not the file
  for (const auto& kv : overrides) from_set.insert(apply_override(cfg, kv));
  for (const auto& spec : config_schema()) {
    if (!spec.check) continue;
    if (auto err = spec.check(cfg))
      throw ConfigError(fmt::format("{}: key '{}' {}", from_set.count(spec.key) ? "--set" : origin, spec.key, *err));
  }
  // The one lookup by name (schema's one_of has vetted it); the run asks the object.
  cfg.aggregation.resolved = methods::find_method(cfg.aggregation.method);
  check_cross_fields(cfg, origin);
  // Lion's beta2 default (Chen et al. 2023) differs from Adam's.
  const bool beta2_given = (root.IsMap() && root["optimizer"] && root["optimizer"].IsMap() && root["optimizer"]["beta2"]) ||
                           from_set.count("optimizer.beta2");
  if (cfg.optimizer.name == "lion" && !beta2_given) cfg.optimizer.beta2 = 0.99;
  return cfg;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (std::filesystem::exists(st) && !std::filesystem::is_regular_file(st))
    throw ConfigError(fmt::format("config file '{}': not a regular file{}", path,
                                  std::filesystem::is_directory(st) ? " (a directory)" : ""));
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("config file '{}': cannot open for reading", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("config file '{}': read error", path));
  return parse_config(ss.str(), path, overrides);
}

std::string dump_config(const Config& cfg) {
  std::string out;
  std::string section;
  for (const auto& spec : config_schema()) {
    const auto dot = spec.key.find('.');
    const std::string sec = spec.key.substr(0, dot);
    if (sec != section) {
      out += sec + ":\n";
      section = sec;
    }
    out += fmt::format("  {}: {}\n", spec.key.substr(dot + 1), spec.get(cfg));
  }
  return out;
}

bool Config::is_adversary(int64_t index) const {
  const auto& listed = adversary.workers;
  if (!listed.empty()) return std::find(listed.begin(), listed.end(), index) != listed.end();
  return index < adversary.count;
}

int64_t Config::adversaries() const {
  return adversary.workers.empty() ? adversary.count : static_cast<int64_t>(adversary.workers.size());
}

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  for (const auto& spec : config_schema()) keys.push_back(spec.key);
  return keys;
}

}  // namespace signvote
