#include "core/serve.h"

#include "comm/mpi_calls.h"
#include "comm/agreement.h"
#include "methods/registry.h"
#include "config/combinations.h"
#include "signvote/external.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <mpi.h>

#include <yaml-cpp/yaml.h>

#include <sstream>

namespace signvote {
namespace {


struct Roles {
  int servers = 0, workers = 0;
  std::string error;  // the same on every rank
};

// What PyTorch workers cannot run (config/combinations.cpp, the serve
// rows of the one table): "" when `cfg` is fine.
std::string serve_limits(const Config& cfg) {
  const Refusal* r = refused_in_serve(cfg);
  return r ? fmt::format("{}: {}", cfg.origin, r->message(cfg)) : std::string();
}

// 1. Who is who (every rank computes the same verdict from the same data).
Roles gather_roles(bool server) {
  const int size = comm::size(comm::world()), mine = server ? 1 : 0;
  std::vector<int> all(static_cast<size_t>(size));
  comm::allgather(&mine, all.data(), 1, comm::world());
  Roles r;
  for (int is_server : all) (is_server ? r.servers : r.workers)++;
  const std::string launch = "launch as: mpirun -np 1 signvote serve cfg.yaml : -np 4 python3 train.py";
  if (r.servers == 0)
    r.error = fmt::format("no signvote server in this job of {} rank(s), all PyTorch workers; {}", size, launch);
  else if (r.workers == 0)
    r.error = fmt::format("signvote serve: no worker joined the job ({} server rank(s)); {}", r.servers, launch);
  for (int k = 0; r.error.empty() && k < size; ++k)
    if ((k < r.servers) != (all[static_cast<size_t>(k)] == 1))
      r.error = fmt::format("rank {} is a {}, but the {} server rank(s) must come first in the mpirun line; {}", k,
                            all[static_cast<size_t>(k)] ? "server" : "worker", r.servers, launch);
  return r;
}

void bcast_string(std::string& s, int root) {
  uint64_t n = s.size();
  comm::bcast_one(n, root, comm::world());
  s.resize(n);
  comm::bcast(std::span<char>(s.data(), n), root, comm::world());
}

// The first line where two resolved configs differ, for the error.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream x(a), y(b);
  std::string la, lb, section;
  while (std::getline(x, la)) {
    if (!std::getline(y, lb)) lb.clear();
    if (!la.empty() && la[0] != ' ') section = la.substr(0, la.find(':'));
    auto key = [&](const std::string& l) {
      const size_t at = l.find_first_not_of(' ');
      return at != std::string::npos && at > 0 ? section + "." + l.substr(at) : l;
    };
    if (la != lb) return fmt::format("'{}' here, '{}' there", key(la), key(lb));
  }
  return "(the same lines, in another order)";
}

// The first parameter group (PyTorch workers) whose layout or values differ
// between two workers' configs, or "".
std::string group_difference(const Config& a, const std::string& b_text) {
  Config b;
  try {
    b = parse_config(b_text, "the first worker's settings");
  } catch (const std::exception&) {
    return {};
  }
  const auto &ga = a.optimizer, &gb = b.optimizer;
  auto describe = [](const Config& c, size_t g) {
    size_t first = 0;
    for (size_t i = 0; i < g; ++i) first += static_cast<size_t>(c.optimizer.groups[i]);
    std::vector<int64_t> sizes(c.model.tensors.begin() + first,
                               c.model.tensors.begin() + first + c.optimizer.groups[g]);
    return fmt::format("tensors of sizes [{}], lr {}, weight_decay {}", fmt::join(sizes, ", "), c.optimizer.group_lr[g],
                       c.optimizer.group_weight_decay[g]);
  };
  const size_t n = std::min(ga.groups.size(), gb.groups.size());
  for (size_t g = 0; g < n; ++g)
    if (describe(a, g) != describe(b, g))
      return fmt::format("parameter group {}: {} here, {} there", g, describe(a, g), describe(b, g));
  if (ga.groups.size() != gb.groups.size())
    return fmt::format("{} parameter groups here, {} there", ga.groups.size(), gb.groups.size());
  return {};
}

// Server 0's config: the file with --set, run.steps unbounded unless given.
Config load_server_config(const std::string& path, const std::vector<std::string>& overrides) {
  Config cfg = load_config(path, overrides);
  bool steps_given = false;
  for (const auto& kv : overrides) steps_given = steps_given || kv.rfind("run.steps=", 0) == 0;
  const YAML::Node root = YAML::LoadFile(path);
  steps_given = steps_given || (root.IsMap() && root["run"] && root["run"].IsMap() && root["run"]["steps"]);
  if (!steps_given) cfg.run.steps = kServeSteps;
  return cfg;
}

}  // namespace

Config join_as_server(const std::string& path, const std::vector<std::string>& overrides) {
  const Roles roles = gather_roles(true);
  if (!roles.error.empty()) throw ConfigError(roles.error);
  const int rank = comm::rank(comm::world());
  std::string error;
  Config cfg;
  try {
    if (rank == 0) cfg = load_server_config(path, overrides);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!error.empty() || rank != 0) {
  } else if (cfg.cluster.servers != roles.servers) {
    error = fmt::format("{}: key 'cluster.servers' = {}, but the job has {} server rank(s)", cfg.origin,
                        cfg.cluster.servers, roles.servers);
  } else {
    error = serve_limits(cfg);
  }
  // "ok\n<path>\n<yaml>" or "error\n<reason>"
  std::string text = rank == 0 ? (error.empty() ? "ok\n" + path + "\n" + dump_config(cfg) : "error\n" + error) : std::string();
  bcast_string(text, 0);
  if (text.rfind("error\n", 0) == 0) throw ConfigError(text.substr(6));
  std::string theirs;  // 3. the workers' resolved config
  bcast_string(theirs, roles.servers);
  Config run;
  try {  // the workers parsed it already; a failure here is agreed all the same
    run = parse_config(theirs, path + " (with the workers' settings)");
  } catch (const std::exception& e) {
    error = e.what();
  }
  agree_or_throw(rank == 0 ? error : std::string());
  return run;
}

Config join_as_worker(const std::vector<std::string>& settings, size_t dim, const std::string& local_error,
                      const std::string& tensors) {
  const Roles roles = gather_roles(false);
  if (!roles.error.empty()) throw JoinError(roles.error, roles.servers == 0);
  const int rank = comm::rank(comm::world());
  std::string text;
  bcast_string(text, 0);
  if (text.rfind("error\n", 0) == 0) throw JoinError(text.substr(6), false);
  std::string error, mine;
  Config cfg;
  try {
    std::vector<std::string> all = settings;
    for (const std::string& kv : {fmt::format("cluster.servers={}", roles.servers),
                                  fmt::format("cluster.workers={}", roles.workers), std::string("model.name=external"),
                                  fmt::format("model.dim={}", dim), std::string("run.checkpoint_dir=\"\"")})
      all.push_back(kv);
    const size_t eol = text.find('\n', 3);
    cfg = parse_config(text.substr(eol + 1), "the server's " + text.substr(3, eol - 3), all);
    const std::string limit = serve_limits(cfg);  // the workers' settings may not lift them either
    if (!limit.empty()) throw ConfigError(limit);
    // compared below like the settings; a comment, since the server parses the first worker's text
    mine = dump_config(cfg) + "# tensors: " + tensors + "\n";
  } catch (const std::exception& e) {
    error = fmt::format("rank {}: {}", rank, e.what());
  }
  std::string first = mine;
  bcast_string(first, roles.servers);
  if (!local_error.empty()) error = fmt::format("rank {}: {}", rank, local_error);
  if (error.empty() && !first.empty() && first != mine) {  // empty: the first worker failed, and says why
    const std::string groups = group_difference(cfg, first);
    error = groups.empty() ? fmt::format("rank {}: its settings or parameter count differ from worker rank {}'s: {}",
                                         rank, roles.servers, first_difference(mine, first))
                           : fmt::format("rank {}: its parameter groups differ from worker rank {}'s: {}", rank,
                                         roles.servers, groups);
  }
  try {
    agree_or_throw(error);
  } catch (const std::exception& e) {
    throw JoinError(e.what(), false);
  }
  return cfg;
}

}  // namespace signvote
