#include "launch/job_args.h"

#include "formats/checkpoint.h"
#include "signvote/config.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

namespace signvote::launch {
namespace {

// Every value of `--name V` or `--name=V` in args, in order.
std::vector<std::string> option_values(const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name && i + 1 < args.size()) out.push_back(args[++i]);
    else if (args[i].rfind(name + "=", 0) == 0) out.push_back(args[i].substr(name.size() + 1));
  }
  return out;
}

// The last value of `--name`, if any.
std::optional<std::string> option_value(const std::vector<std::string>& args, const std::string& name) {
  auto all = option_values(args, name);
  if (all.empty()) return std::nullopt;
  return std::move(all.back());
}

// args without `--name V` / `--name=V` (with_value) or the flag `--name`.
std::vector<std::string> without(const std::vector<std::string>& args, const std::string& name, bool with_value) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name) {
      if (with_value) ++i;
      continue;
    }
    if (with_value && args[i].rfind(name + "=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

bool on_path(const char* tool) {
  const char* path = std::getenv("PATH");  // the launcher's entry point: where mpirun itself looks
  if (!path) return false;
  std::string p = path;
  for (size_t start = 0; start <= p.size();) {
    const size_t end = std::min(p.find(':', start), p.size());
    if (::access((p.substr(start, end - start) + "/" + tool).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

bool only_this_machine(const std::vector<Host>& hosts) {
  static const std::set<std::string> local{"localhost", "127.0.0.1"};
  return hosts.size() == 1 && local.count(hosts[0].name) == 1;
}

}  // namespace

JobSpec read_job(const Options& o) {
  const Config cfg = load_config(o.config, option_values(o.train_args, "--set"));
  JobSpec j;
  if (o.mpmd) {
    j = {{o.worker_np, static_cast<int>(cfg.cluster.servers)}, o.checkpoint_dir, false,
         option_value(o.train_args, "--metrics").has_value(), true};
    if (o.np != j.first.servers)
      throw ConfigError(fmt::format("{}: key 'cluster.servers' = {} needs the servers' -np {} (before the ':'), but it is {}",
                                    cfg.origin, j.first.servers, j.first.servers, o.np));
    return j;
  }
  j.first = {static_cast<int>(cfg.cluster.workers), static_cast<int>(cfg.cluster.servers)};
  if (o.np != j.first.ranks())
    throw ConfigError(fmt::format("{}: key 'cluster.workers' = {} with cluster.servers = {} needs -np {}, but -np is {}",
                                  cfg.origin, j.first.workers, j.first.servers, j.first.ranks(), o.np));
  const auto resume = option_value(o.train_args, "--resume");
  j.user_resumes = resume.has_value();
  if (auto d = option_value(o.train_args, "--checkpoint-dir")) j.checkpoint_dir = *d;
  else if (!cfg.run.checkpoint_dir.empty()) j.checkpoint_dir = cfg.run.checkpoint_dir;
  else if (resume && std::filesystem::is_directory(*resume)) j.checkpoint_dir = *resume;  // train keeps saving there
  j.metrics = option_value(o.train_args, "--metrics").has_value();
  return j;
}

std::optional<Saved> latest_checkpoint(const std::filesystem::path& dir) {
  std::error_code ec;
  if (dir.empty() || !std::filesystem::is_directory(dir, ec)) return std::nullopt;
  const auto files = data::CheckpointDir(dir, 1).list_complete();  // an incomplete step is never resumed
  if (files.empty()) return std::nullopt;
  return files.back();
}

std::optional<Saved> latest_worker_states(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return std::nullopt;
  static const std::regex name(R"(step_(\d{9})_w(\d{1,7}))");
  std::optional<Saved> best;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string base = e.path().filename().string();
    if (!e.is_directory(ec) || !std::regex_match(base, m, name)) continue;
    const uint64_t step = std::stoull(m[1].str());
    const int workers = std::stoi(m[2].str());
    bool complete = workers > 0;
    for (int k = 0; complete && k < workers; ++k) complete = fs::is_regular_file(e.path() / fmt::format("worker{}.pt", k), ec);
    if (complete && (!best || step > best->first)) best = Saved{step, e.path()};
  }
  return best;
}

std::optional<Saved> latest_saved(const JobSpec& j) {
  return j.mpmd ? latest_worker_states(j.checkpoint_dir) : latest_checkpoint(j.checkpoint_dir);
}

std::vector<std::string> mpirun_base(const Options& o, const std::vector<Host>& hosts) {
  std::vector<std::string> a{o.mpirun};
  if (::geteuid() == 0) a.push_back("--allow-run-as-root");
  // Open MPI's rsh launcher refuses to start without ssh or rsh, even for this machine alone.
  if (only_this_machine(hosts) && !on_path("ssh") && !on_path("rsh")) a.insert(a.end(), {"--mca", "plm", "^rsh"});
  a.insert(a.end(), o.mpirun_args.begin(), o.mpirun_args.end());
  return a;
}

std::vector<std::string> job_argv(const Options& o, const JobSpec& j, const std::vector<Host>& hosts,
                                  const std::filesystem::path& hostfile, const Shape& shape, bool restart,
                                  const std::optional<std::filesystem::path>& resume, const std::string& run_id) {
  std::vector<std::string> a = mpirun_base(o, hosts);
  a.insert(a.end(), {"--hostfile", hostfile.string(), "-np", std::to_string(shape.ranks()),
                     o.signvote.empty() ? self_exe() : o.signvote, "train", o.config});
  std::vector<std::string> args = o.train_args;
  if (resume) {
    args = without(without(args, "--resume", true), "--rewind", false);
    args.insert(args.end(), {"--resume", resume->string()});
  } else if (restart && j.metrics && !j.user_resumes) {
    args.push_back("--overwrite");  // the first try made it: a start over replaces its rows
  }
  if (!resume && !j.user_resumes) args.insert(args.end(), {"--run-id", run_id});
  if (restart)
    args.insert(args.end(), {"--set", fmt::format("cluster.workers={}", shape.workers), "--set",
                             fmt::format("cluster.servers={}", shape.servers)});
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

std::vector<std::string> mpmd_argv(const Options& o, const JobSpec& j, const std::vector<Host>& hosts,
                                   const std::filesystem::path& hostfile, const Shape& shape, bool restart) {
  std::vector<std::string> a = mpirun_base(o, hosts);
  a.insert(a.end(), {"--hostfile", hostfile.string(), "-np", std::to_string(shape.servers),
                     o.signvote.empty() ? self_exe() : o.signvote, "serve", o.config});
  a.insert(a.end(), o.train_args.begin(), o.train_args.end());
  a.insert(a.end(), {"--set", fmt::format("cluster.workers={}", shape.workers), "--set",
                     fmt::format("cluster.servers={}", shape.servers)});
  if (restart && j.metrics) a.push_back("--append");  // the first try made it: the resumed rows follow
  a.insert(a.end(), {":", "-np", std::to_string(shape.workers)});
  a.insert(a.end(), o.worker_cmd.begin(), o.worker_cmd.end());
  return a;
}

std::vector<std::string> probe_argv(const Options& o, const std::vector<Host>& hosts, const std::string& host) {
  std::vector<std::string> a = mpirun_base(o, hosts);
  a.insert(a.end(), {"--host", host + ":1", "-np", "1", o.signvote.empty() ? self_exe() : o.signvote, "devices", "--json"});
  return a;
}

std::string self_exe() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("launch: cannot find its own executable (/proc/self/exe): " + ec.message());
  return p.string();
}

}  // namespace signvote::launch
