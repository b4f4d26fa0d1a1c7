// YAML + --set parsing with one-line errors that name the key and the file.
#include "signvote/config.h"

#include "config/combinations.h"
#include "config/config_schema.h"
#include "methods/registry.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>

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

// adversary.mode = alie: Baruch et al.'s s and z need enough workers.
template <class Fail>
void check_alie(const Config& c, const Fail& fail) {
  if (c.adversaries() == 0 || c.adversary.mode_kind != AdversaryMode::alie) return;
  const int64_t n = c.cluster.workers, f = c.adversaries();
  if (n / 2 + 1 - f < 1)
    fail(fmt::format("key 'adversary.mode' = alie needs s = floor(n/2 + 1) - f >= 1 (Baruch et al.), but {} workers with {} adversaries give s = {}", n, f, n / 2 + 1 - f));
  if (n < 3)
    fail(fmt::format("key 'adversary.mode' = alie needs at least 3 workers (z = Phi^-1((n - f - s)/(n - f)) is -infinity for n = {})", n));
}

// model.tensors and the parameter groups (PyTorch workers) fit together.
template <class Fail>
void check_groups(const Config& c, const Fail& fail) {
  const auto& m = c.model;
  const auto& o = c.optimizer;
  if (!m.tensors.empty() && m.kind != ModelName::external)
    fail(fmt::format("key 'model.tensors' is for model.name = external (PyTorch workers), not {}", m.name));
  int64_t sum = 0;
  for (int64_t n : m.tensors) sum += n;
  if (!m.tensors.empty() && sum != m.dim)
    fail(fmt::format("key 'model.tensors' sums to {} coordinates, but model.dim = {}", sum, m.dim));
  if (o.groups.empty() && o.group_lr.empty() && o.group_weight_decay.empty()) return;
  if (m.tensors.empty()) fail("key 'optimizer.groups' needs model.tensors (the PyTorch workers set both)");
  if (o.group_lr.size() != o.groups.size() || o.group_weight_decay.size() != o.groups.size())
    fail(fmt::format("keys 'optimizer.groups', 'optimizer.group_lr' and 'optimizer.group_weight_decay' must have one "
                     "entry per group, got {}, {} and {}", o.groups.size(), o.group_lr.size(), o.group_weight_decay.size()));
  int64_t tensors = 0;
  for (int64_t n : o.groups) tensors += n;
  if (tensors != static_cast<int64_t>(m.tensors.size()))
    fail(fmt::format("key 'optimizer.groups' holds {} tensors, but model.tensors lists {}", tensors, m.tensors.size()));
}

// aggregation.local_steps = H: rounds come at inner steps H, 2H, ..., so
// the run must end on one.
template <class Fail>
void check_local_steps(const Config& c, const Fail& fail) {
  const auto& o = c.optimizer;
  if (o.nesterov && (o.kind != OptimizerName::sgd || o.momentum <= 0))
    fail(fmt::format("key 'optimizer.nesterov' needs optimizer.name = sgd with optimizer.momentum > 0, got {} with momentum {}",
                     o.name, o.momentum));
  const int64_t h = c.aggregation.local_steps;
  if (h == 1) return;
  // The periods (log_every, hash_every, checkpoint_every, eval_every) act at
  // the first round at or after each multiple (run_plan.h: period_due).
  if (c.run.steps % h != 0)
    fail(fmt::format("key 'run.steps' = {} is not a multiple of aggregation.local_steps = {}: rounds come every {} "
                     "inner steps, so the run would end between two", c.run.steps, h, h));
  if (c.probes.every > 0 || !c.probes.epochs.empty())
    fail("keys 'probes.every' / 'probes.epochs' cannot be used with aggregation.local_steps > 1 (a probe reads the "
         "replicas' common weights, which exist only at round boundaries)");
  if (c.inner.schedule_kind == LrSchedule::step)
    fail("key 'inner.schedule' = step has no milestones of its own: use constant, warmup_step, cosine or linear");
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
  if (const Refusal* r = refused(c)) fail(r->message(c));  // config/combinations.cpp: the one table
  methods::method_of(c).check(c, fail);                      // the method's own checks
  const bool network = c.model.kind != ModelName::quadratic && c.model.kind != ModelName::external;
  if (!network && (c.probes.every > 0 || !c.probes.epochs.empty()))
    fail(fmt::format("keys 'probes.every' / 'probes.epochs' need a network model built by signvote (model.name = {} has none)", c.model.name));
  if (network && c.data.path.empty())
    fail(fmt::format("key 'data.path' is required for model.name = {}", c.model.name));
  check_alie(c, fail);
  check_groups(c, fail);
  check_local_steps(c, fail);
  if (c.faults.delay_rank >= 0 && (c.faults.delay_rank < c.cluster.servers || c.faults.delay_rank >= c.world_size()))
    fail(fmt::format("key 'faults.delay_rank' = {} is not a worker rank ({}..{})", c.faults.delay_rank, c.cluster.servers,
                     c.world_size() - 1));
  if (c.faults.wrong_step_rank >= 0 && (c.faults.wrong_step_rank < c.cluster.servers || c.faults.wrong_step_rank >= c.world_size()))
    fail(fmt::format("key 'faults.wrong_step_rank' = {} is not a worker rank ({}..{})", c.faults.wrong_step_rank,
                     c.cluster.servers, c.world_size() - 1));
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
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's depth guard, whose own text is "bad file"
    throw ConfigError(fmt::format("{}:{}: invalid YAML: nested more than {} levels deep (a config has 2)", origin,
                                  e.mark.line + 1, e.depth() - 1));
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
  // The one lookup by name of each enum-valued key and of the method (the
  // schema's checks have vetted them); the run reads the enums and asks the object.
  for (const auto& spec : config_schema())
    if (spec.resolve) spec.resolve(cfg);
  cfg.aggregation.resolved = methods::find_method(cfg.aggregation.method);
  check_cross_fields(cfg, origin);
  // Lion's beta2 default (Chen et al. 2023) differs from Adam's.
  const bool beta2_given = (root.IsMap() && root["optimizer"] && root["optimizer"].IsMap() && root["optimizer"]["beta2"]) ||
                           from_set.count("optimizer.beta2");
  if (cfg.optimizer.kind == OptimizerName::lion && !beta2_given) cfg.optimizer.beta2 = 0.99;
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
