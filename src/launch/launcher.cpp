#include "launch/launcher.h"

#include "launch/job_args.h"
#include "formats/checkpoint.h"
#include "launch/process.h"
#include "util/timer.h"
#include "signvote/config.h"
#include "signvote/exit_status.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <regex>
#include <thread>
#include <unistd.h>

namespace signvote::launch {
namespace {

using util::Clock;
using util::after_seconds;
namespace fs = std::filesystem;

std::vector<Host> first_hosts(const Options& o) {
  if (!o.hostfile.empty()) return read_hostfile(o.hostfile);
  if (!o.slurm_nodelist.empty()) {
    std::vector<std::string> names;
    const std::string out = capture({"scontrol", "show", "hostnames", o.slurm_nodelist}, 30);
    for (size_t a = 0, b; a < out.size(); a = b + 1) {
      b = std::min(out.find('\n', a), out.size());
      if (b > a) names.push_back(out.substr(a, b - a));
    }
    return with_slots(names, parse_tasks_per_node(o.slurm_tasks_per_node));
  }
  return {{"localhost", o.np + (o.mpmd ? o.worker_np : 0)}};
}

// What one try printed and how far it got.
struct Watch {
  std::deque<std::string> tail;  // the last lines (classify reads them)
  uint64_t last_step = 0;        // the highest "step N/" a progress line showed
  std::string stalled;           // the stall line that crossed --stall-timeout-s
};

// Forwards the job's lines and keeps what the launcher needs of them.
LineSink watcher(Watch& w, double stall_timeout_s) {
  return [&w, stall_timeout_s](std::string_view line, bool err) {
    std::fwrite(line.data(), 1, line.size(), err ? stderr : stdout);
    std::fputc('\n', err ? stderr : stdout);
    if (!err) std::fflush(stdout);
    w.tail.emplace_back(line);
    if (w.tail.size() > 200) w.tail.pop_front();
    static const std::regex step(R"(\] step (\d+)/)"), stall(R"(still waiting for the (?:votes|reports) of .* \((\d+) s[ ;])");
    std::cmatch m;
    if (std::regex_search(line.begin(), line.end(), m, step)) w.last_step = std::max<uint64_t>(w.last_step, std::stoull(m[1].str()));
    if (stall_timeout_s > 0 && std::regex_search(line.begin(), line.end(), m, stall) &&
        std::stod(m[1].str()) >= stall_timeout_s)
      w.stalled = fmt::format("a round stalled for {} s or more (--stall-timeout-s): {}", stall_timeout_s, line);
  };
}

struct Pool {
  std::vector<Host> all;      // every host the launch was given, in order
  std::vector<bool> live;     // answered the last probe (all true at the start)
  std::vector<Host> hosts() const {
    std::vector<Host> out;
    for (size_t i = 0; i < all.size(); ++i)
      if (live[i]) out.push_back(all[i]);
    return out;
  }
};

// Probes every host; returns "dropped a, b; re-admitted c" (or "every host answers").
std::string reprobe(const Options& o, Pool& pool) {
  std::vector<std::vector<std::string>> cmds;
  for (const Host& h : pool.all) cmds.push_back(probe_argv(o, pool.all, h.name));
  const std::vector<bool> ok = probe_all(cmds, o.probe_timeout_s);
  std::vector<std::string> dropped, back;
  for (size_t i = 0; i < ok.size(); ++i) {
    if (pool.live[i] && !ok[i]) dropped.push_back(pool.all[i].name);
    if (!pool.live[i] && ok[i]) back.push_back(pool.all[i].name);
    pool.live[i] = ok[i];
  }
  std::string s;
  if (!dropped.empty()) s += fmt::format("dropped {}", fmt::join(dropped, ", "));
  if (!back.empty()) s += fmt::format("{}re-admitted {}", s.empty() ? "" : "; ", fmt::join(back, ", "));
  return s.empty() ? "every host answers" : s;
}

// The Tick of one try: a signal to the launcher, a stall, a dropped host answering again.
Tick ticker(const Options& o, Pool& pool, Watch& w) {
  auto next_grow = std::make_shared<Clock::time_point>(after_seconds(o.grow_check_s));
  return [&o, &pool, &w, next_grow]() -> std::string {
    if (int sig = received_signal()) return fmt::format("the launcher got signal {}", sig);
    if (!w.stalled.empty()) return w.stalled;
    if (o.grow_check_s <= 0 || Clock::now() < *next_grow) return "";
    *next_grow = after_seconds(o.grow_check_s);
    std::vector<size_t> idx;
    std::vector<std::vector<std::string>> cmds;
    for (size_t i = 0; i < pool.all.size(); ++i)
      if (!pool.live[i]) idx.push_back(i), cmds.push_back(probe_argv(o, pool.all, pool.all[i].name));
    if (idx.empty()) return "";
    const std::vector<bool> ok = probe_all(cmds, o.probe_timeout_s);
    for (size_t k = 0; k < idx.size(); ++k)
      if (ok[k]) return fmt::format("grow check: host {} answers again", pool.all[idx[k]].name);
    return "";
  };
}

}  // namespace

}  // namespace signvote::launch

namespace signvote::launch {
namespace {

// A private folder for the launcher's hostfile, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "signvote-launch-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("launch: cannot make a temporary folder in " + fs::temp_directory_path().string());
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Waits `s` seconds unless the launcher is signalled first; false if it was.
bool wait_unsignalled(double s) {
  const auto end = after_seconds(s);
  while (Clock::now() < end) {
    if (received_signal()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return received_signal() == 0;
}

std::string host_list(const std::vector<Host>& hosts) {
  std::vector<std::string> n;
  for (const Host& h : hosts) n.push_back(h.slots == 1 ? h.name : fmt::format("{}:{}", h.name, h.slots));
  return fmt::format("{}", fmt::join(n, " "));
}

// After an infrastructure failure: probe, fit, log the restart line. The
// next shape, or nullopt after logging why the launch stops.
std::optional<Shape> plan_restart(const Options& o, const JobSpec& j, Pool& pool, const Verdict& v, const Watch& w,
                                  const Shape& was, int restart, Clock::time_point failed_at, double wait_s) {
  std::string probes = reprobe(o, pool);
  // Not one host answering is more likely the probe's own failure (mpirun,
  // the signvote binary being replaced, an overloaded launcher host) than
  // every host lost at once: probe again, 2, 4 and 8 s later.
  for (int again = 0; pool.hosts().empty() && again < 3; ++again) {
    const double pause_s = 2.0 * (1 << again);
    spdlog::warn("launch: no host answered its probe ({}); probing again in {:.0f} s", probes, pause_s);
    if (!wait_unsignalled(pause_s)) break;
    probes = reprobe(o, pool);
  }
  std::string why;
  auto next = fit(j.first, static_cast<int>(pool.all.size()), pool.hosts(), &why);
  std::string odd;  // --odd-workers: one worker fewer than fit when that count is even (no coordinate ever ties)
  if (next && o.odd_workers && next->workers % 2 == 0 && next->workers > 1) {
    odd = fmt::format(" ({} fit; --odd-workers)", next->workers);
    --next->workers;
  }
  if (!next) {
    spdlog::error("launch: cannot restart after '{}': {} ({})", v.why, why, probes);
    return std::nullopt;
  }
  if (next->workers < o.min_workers) {
    spdlog::error("launch: only {} worker(s) fit on the hosts left ({}; {}), fewer than --min-workers {}; the last "
                  "failure: {}", next->workers, host_list(pool.hosts()), probes, o.min_workers, v.why);
    return std::nullopt;
  }
  const auto ck = latest_saved(j);
  const uint64_t from = ck ? ck->first : 0;
  spdlog::warn("launch: restart {}/{}: {}{} | {} | hosts {} | workers {} -> {}, servers {} -> {} | resuming step {} "
               "({}) | {} step(s) and {:.1f} s lost",
               restart, o.max_restarts, v.why, v.host.empty() ? "" : fmt::format(" (host {})", v.host), probes,
               host_list(pool.hosts()), was.workers, fmt::format("{}{}", next->workers, odd), was.servers, next->servers, from,
               ck ? ck->second.string() : "no checkpoint yet: from the start", w.last_step > from ? w.last_step - from : 0,
               util::seconds_since(failed_at) + wait_s);
  return next;
}

// The mpirun line of one try: `train`, resuming from the latest checkpoint
// on a restart, or --mpmd's serve + the workers (who resume themselves).
std::vector<std::string> try_argv(const Options& o, const JobSpec& j, const std::vector<Host>& hosts,
                                  const fs::path& hostfile, const Shape& shape, bool restart, const std::string& run_id) {
  if (j.mpmd) return mpmd_argv(o, j, hosts, hostfile, shape, restart);
  const auto ck = restart ? latest_checkpoint(j.checkpoint_dir) : std::nullopt;
  return job_argv(o, j, hosts, hostfile, shape, restart, ck ? std::optional<fs::path>(j.checkpoint_dir) : std::nullopt,
                  run_id);
}

}  // namespace

int run(const Options& o) {
  const JobSpec j = read_job(o);
  Pool pool{first_hosts(o), {}};
  pool.live.assign(pool.all.size(), true);
  if (total_slots(pool.all) < j.first.ranks())
    throw std::runtime_error(fmt::format("launch: {} needs {} slots; the hosts ({}) have {}",
                                         j.mpmd ? fmt::format("-np {} : -np {}", o.np, o.worker_np) : fmt::format("-np {}", o.np),
                                         j.first.ranks(), host_list(pool.all), total_slots(pool.all)));
  if (j.checkpoint_dir.empty() && !j.mpmd)
    spdlog::warn("launch: no checkpoint directory (run.checkpoint_dir or --checkpoint-dir): a restart starts over");
  if (j.checkpoint_dir.empty() && j.mpmd)
    spdlog::warn("launch: --mpmd without --checkpoint-dir: the workers resume from their own states, but the "
                 "restart line cannot name the step");
  TempDir tmp;
  const fs::path hostfile = tmp.path / "hosts";
  const std::string run_id = fmt::format("{:016x}", data::new_run_id());
  Shape shape = j.first;
  int restarts = 0;
  for (bool restart = false;; restart = true) {
    write_hostfile(hostfile, pool.hosts());
    Watch w;
    const JobEnd end = run_job(try_argv(o, j, pool.hosts(), hostfile, shape, restart, run_id),
                               watcher(w, o.stall_timeout_s), ticker(o, pool, w), o.grace_s);
    const auto failed_at = Clock::now();
    if (const int sig = received_signal()) {
      spdlog::error("launch: stopped by signal {}; the job was stopped with it", sig);
      return 128 + sig;
    }
    const Verdict v = classify(end.status, {w.tail.begin(), w.tail.end()}, end.stopped);
    if (v.cause == Cause::done) {
      spdlog::info("launch: the job finished{}", restarts ? fmt::format(" after {} restart(s)", restarts) : "");
      return 0;
    }
    if (v.cause == Cause::deterministic) {
      spdlog::error("launch: the job failed with exit status {} and is not restarted (a deterministic error): {}",
                    end.status, v.why);
      return end.status > 0 && end.status < 128 ? end.status : exit_status::error;
    }
    const bool grow = end.stopped.rfind("grow check", 0) == 0;  // deliberate: not counted against --max-restarts
    if (!grow && restarts >= o.max_restarts) {
      spdlog::error("launch: --max-restarts {} exhausted; the last failure: {}", o.max_restarts, v.why);
      return exit_status::infrastructure;
    }
    if (!grow) ++restarts;
    const double wait_s = grow ? 0.0 : std::min(o.backoff_s * (1 << std::min(restarts - 1, 5)), 60.0);
    const auto next = plan_restart(o, j, pool, v, w, shape, std::max(restarts, 1), failed_at, wait_s);
    if (!next) return exit_status::infrastructure;
    shape = *next;
    if (!wait_unsignalled(wait_s)) {
      spdlog::error("launch: stopped by signal {} before restarting", received_signal());
      return 128 + received_signal();
    }
  }
}

namespace {

void add_options(CLI::App& app, Options& o) {
  app.footer("After the options: cfg.yaml [signvote train options...], e.g.\n"
             "  signvote launch -np 8 --hostfile hosts cfg.yaml --checkpoint-dir /shared/ckpt --metrics m.csv\n"
             "PyTorch workers (--mpmd): the servers' -np and cfg.yaml [signvote serve options...], ':', the workers', e.g.\n"
             "  signvote launch --mpmd --checkpoint-dir /shared/ckpt -np 1 cfg.yaml : -np 4 python3 train.py --checkpoint-dir /shared/ckpt");
  app.option_defaults()->always_capture_default();
  app.add_option("--np,-n", o.np, "ranks of the first try: cluster.servers + cluster.workers (also -np); --mpmd: the servers")
      ->required()->check(CLI::Range(1, 1 << 20));
  app.add_option("--hostfile", o.hostfile, "hosts and slots (Open MPI format); default: the Slurm allocation, or this machine");
  app.add_option("--min-workers", o.min_workers, "stop when fewer workers than this fit on the hosts left")->check(CLI::Range(1, 1 << 20));
  app.add_option("--max-restarts", o.max_restarts, "restarts after infrastructure failures")->check(CLI::Range(0, 1000));
  app.add_option("--backoff-s", o.backoff_s, "seconds before the first restart (doubling, at most 60)")->check(CLI::Range(0.0, 3600.0));
  app.add_option("--probe-timeout-s", o.probe_timeout_s, "a host that does not answer its probe within this is dropped")->check(CLI::Range(0.1, 3600.0));
  app.add_option("--stall-timeout-s", o.stall_timeout_s, "restart when a round waits this long for a worker (0: wait)")->check(CLI::Range(0.0, 1e6));
  app.add_option("--grow-check-s", o.grow_check_s, "probe dropped hosts this often and restart to re-admit one (0: never)")->check(CLI::Range(0.0, 1e6));
  app.add_option("--mpirun", o.mpirun, "the mpirun command to run");
  app.add_option("--mpirun-arg", o.mpirun_args, "one more mpirun argument (repeatable): --mpirun-arg=--map-by --mpirun-arg=node")
      ->allow_extra_args(false);
  app.add_option("--signvote", o.signvote, "the signvote binary the ranks run (default: this one)");
  app.add_flag("--odd-workers", o.odd_workers,
               "restart with an odd worker count, one fewer than fit when that is even, so that no coordinate ever ties "
               "(not needed for accuracy: ties alternate, docs/kernels.md)");
  app.add_flag("--mpmd", o.mpmd, "PyTorch workers: signvote serve on the -np servers, then ': -np W command...'");
  app.add_option("--checkpoint-dir", o.checkpoint_dir,
                 "--mpmd: where the workers' signvote.checkpoints save (names the step a restart resumes)");
  app.prefix_command();  // cfg.yaml and everything after it belong to `signvote train` (or serve)
}

// The arguments after the launcher's options: cfg.yaml and the train (or
// serve) options; with --mpmd then ':' '-np' W and the workers' command.
// Throws std::invalid_argument with the line's usage.
void take_job_args(std::vector<std::string> rest, Options& o) {
  if (rest.empty()) throw std::invalid_argument("give the config file after the launcher's options: signvote launch -np N cfg.yaml [train options]");
  o.config = rest[0];
  const auto colon = std::find(rest.begin(), rest.end(), ":");
  o.train_args.assign(rest.begin() + 1, colon);
  if (!o.mpmd) {
    if (colon != rest.end()) throw std::invalid_argument("a ':' (an MPMD line) needs --mpmd: signvote launch --mpmd -np S cfg.yaml : -np W command...");
    if (!o.checkpoint_dir.empty()) throw std::invalid_argument("--checkpoint-dir before cfg.yaml is --mpmd's; give `signvote train` its own after cfg.yaml");
    return;
  }
  const std::string usage = "--mpmd needs the workers after a ':': signvote launch --mpmd -np S cfg.yaml [serve options] : -np W command...";
  if (colon == rest.end() || colon + 2 >= rest.end() || (colon[1] != "--np" && colon[1] != "-n" && colon[1] != "--n"))
    throw std::invalid_argument(usage);
  try {
    size_t used = 0;
    o.worker_np = std::stoi(colon[2], &used);
    if (used != colon[2].size() || o.worker_np < 1) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw std::invalid_argument(fmt::format("the workers' -np after ':' must be a positive count, not '{}'", colon[2]));
  }
  o.worker_cmd.assign(colon + 3, rest.end());
  if (o.worker_cmd.empty()) throw std::invalid_argument(usage);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_pattern("[%H:%M:%S.%e] [launch] [%l] %v");
  CLI::App app{"signvote launch: run a training job under mpirun and restart it after infrastructure failures",
               "signvote launch"};
  Options o;
  add_options(app, o);
  // CLI11 reads -np as -n p: the launcher's -np and the workers' after the first ':' become --np.
  std::vector<std::string> args;
  int colon = argc;
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == ":") { colon = i; break; }
  for (int i = argc - 1; i >= 1; --i)
    args.push_back((i < colon || i == colon + 1) && std::string_view(argv[i]) == "-np" ? "--np" : argv[i]);
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    take_job_args(app.remaining(), o);
  } catch (const std::invalid_argument& e) {
    spdlog::error("launch: {}", e.what());
    return exit_status::error;
  }
  if (const char* v = std::getenv("SLURM_JOB_NODELIST")) o.slurm_nodelist = v;  // the allocation, as mpirun reads it
  if (const char* v = std::getenv("SLURM_TASKS_PER_NODE")) o.slurm_tasks_per_node = v;
  install_signal_handlers();
  try {
    return run(o);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return exit_status::error;
  }
}

}  // namespace signvote::launch
