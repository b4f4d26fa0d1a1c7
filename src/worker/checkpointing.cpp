#include "worker/checkpointing.h"

#include "comm/mpi_calls.h"
#include "config/run_plan.h"
#include "formats/hash.h"
#include "util/timer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace signvote::worker {
namespace {

// Gathers `local` (n,) from every worker to worker 0: (W*n,) there.
std::vector<float> gather(std::span<const float> local, const comm::Topology& topo) {
  std::vector<float> all(topo.worker_index() == 0 ? local.size() * topo.workers() : 0);
  comm::gather(local.data(), all.data(), local.size(), 0, topo.workers_comm());
  return all;
}

std::vector<std::string> gather_strings(const std::string& mine, const comm::Topology& topo) {
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(topo.workers()), displs(topo.workers());
  comm::gather(&len, lens.data(), 1, 0, topo.workers_comm());
  int total = 0;
  for (int k = 0; k < topo.workers(); ++k) displs[k] = total, total += lens[k];
  std::string all(static_cast<size_t>(total), '\0');
  comm::gatherv(std::span<const char>(mine), all.data(), lens.data(), displs.data(), 0, topo.workers_comm());
  std::vector<std::string> out;
  if (topo.worker_index() == 0)
    for (int k = 0; k < topo.workers(); ++k) out.push_back(all.substr(displs[k], lens[k]));
  return out;
}

void put_per_worker(data::Checkpoint& c, const std::string& name, const std::vector<float>& all, size_t n, int W) {
  for (int k = 0; k < W; ++k)
    c.arrays[fmt::format("{}.{}", name, k)] = std::vector<float>(all.begin() + k * n, all.begin() + (k + 1) * n);
}

const std::vector<float>& array(const data::Checkpoint& c, const std::string& name, size_t n,
                                const std::filesystem::path& file) {
  const std::vector<float>& a = data::require_array(c, name, file);
  if (a.size() != n)
    throw std::runtime_error(fmt::format("checkpoint '{}': array '{}' has {} values, this run needs {}", file.string(),
                                         name, a.size(), n));
  return a;
}

// "worker 4" or "workers 4..6".
std::string worker_range(uint64_t first, uint64_t last) {
  return first == last ? fmt::format("worker {}", first) : fmt::format("workers {}..{}", first, last);
}

}  // namespace

uint64_t checkpoint_bytes(Problem& p, const OptimizerState& opt, int workers) {
  const uint64_t per_worker = opt.floats() + p.buffers().size();
  return 4 * (p.params().size() + uint64_t(workers) * per_worker + p.buffers().size()) + (1u << 20);
}

data::Checkpoint make_checkpoint(const Config& cfg, const RunPoint& at, std::span<const float> params,
                                 OptimizerState& opt, const Gathered& g, int W) {
  data::Checkpoint c;
  c.arrays["params"] = std::vector<float>(params.begin(), params.end());
  const auto arrays = opt.arrays();
  for (size_t i = 0; i < arrays.size(); ++i)
    if (arrays[i].always || !arrays[i].values.empty())
      put_per_worker(c, arrays[i].name, g.state.at(i), arrays[i].values.size(), W);
  const size_t nb = g.buffers.size() / static_cast<size_t>(W);
  put_per_worker(c, "buffers", g.buffers, nb, W);
  std::vector<float> mean(nb, 0.f);
  for (int k = 0; k < W; ++k)
    for (size_t i = 0; i < nb; ++i) mean[i] += g.buffers[k * nb + i] / static_cast<float>(W);
  c.arrays["buffers.mean"] = std::move(mean);
  c.scalars["step"] = at.step;
  c.scalars["workers"] = static_cast<uint64_t>(W);
  c.scalars["dim"] = params.size();
  c.scalars["run_id"] = at.run_id;
  c.scalars["elapsed_ms"] = static_cast<uint64_t>(at.elapsed_s * 1000.0);  // the time budget spent
  c.blobs["config"] = dump_config(cfg);
  for (int k = 0; k < W; ++k) c.blobs[fmt::format("state.{}", k)] = g.states.at(k);
  return c;
}

CheckpointWriter::~CheckpointWriter() {
  if (pending_.valid()) pending_.wait();
}

void CheckpointWriter::write(data::Checkpoint c, uint64_t step, double gathered_s) {
  finish();
  pending_ = std::async(std::launch::async, [this, c = std::move(c), step, gathered_s] {
    const auto t0 = util::Clock::now();
    const auto file = dir_.save(c, step);
    spdlog::info("step {}: checkpoint {} (snapshot {:.3f} s in the round, written in {:.3f} s beside it)", step,
                 file.string(), gathered_s, util::seconds_since(t0));
  });
}

void CheckpointWriter::finish() {
  if (pending_.valid()) pending_.get();
}

void save_run_checkpoint(const Config& cfg, const comm::Topology& topo, const RunPoint& at, Problem& p,
                         OptimizerState& opt, CheckpointWriter* writer) {
  const auto t0 = util::Clock::now();
  p.pull(Flat::params), p.pull(Flat::buffers), opt.to_host();
  Gathered g;
  for (const StateArray& a : opt.arrays()) g.state.push_back(gather(a.values, topo));  // every array, empty or not
  g.buffers = gather(p.buffers(), topo);
  g.states = gather_strings(p.save_state(), topo);
  if (topo.worker_index() != 0) return;
  data::Checkpoint c = make_checkpoint(cfg, at, p.params(), opt, g, topo.workers());
  writer->write(std::move(c), at.step, util::seconds_since(t0));
}

void restore_worker(const data::Checkpoint& c, const std::filesystem::path& file, int k, Problem& p,
                    OptimizerState& opt) {
  auto copy = [&](std::span<float> dst, const std::string& name) {
    const auto& src = array(c, name, dst.size(), file);
    std::copy(src.begin(), src.end(), dst.begin());
  };
  // Worker k of a run with more workers than the checkpoint's is new: zero
  // optimizer state, the mean BN statistics, a peer's data position.
  const bool joins = static_cast<uint64_t>(k) >= data::require_scalar(c, "workers", file);
  copy(p.params(), "params");
  for (const StateArray& a : opt.arrays()) {
    if (joins) std::fill(a.values.begin(), a.values.end(), 0.f);
    else if (a.always || !a.values.empty()) copy(a.values, fmt::format("{}.{}", a.name, k));
  }
  copy(p.buffers(), joins ? std::string("buffers.mean") : fmt::format("buffers.{}", k));
  const std::string key = fmt::format("state.{}", joins ? 0 : k);
  try {
    if (joins) p.join_state(data::require_blob(c, key, file));
    else p.restore_state(data::require_blob(c, key, file));
  } catch (const std::exception& e) {
    if (std::string(e.what()).starts_with("checkpoint '")) throw;
    throw std::runtime_error(fmt::format("checkpoint '{}': blob '{}': {}", file.string(), key, e.what()));
  }
}

std::filesystem::path resolve_checkpoint(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  if (fs::is_directory(path)) {
    data::CheckpointDir dir(path, 1);
    if (auto latest = dir.latest()) return *latest;
    throw std::runtime_error(fmt::format("--resume '{}': no checkpoint in this directory", path.string()));
  }
  if (!fs::exists(path)) throw std::runtime_error(fmt::format("--resume '{}': no such file or directory", path.string()));
  return path;
}

ResumePoint load_run_checkpoint(const std::filesystem::path& path, const Config& cfg, const comm::Topology& topo,
                                Problem& p, OptimizerState& opt) {
  const auto file = resolve_checkpoint(path);
  const data::Checkpoint c = data::read_checkpoint(file);
  const uint64_t step = data::require_scalar(c, "step", file);
  if (cfg.run.steps <= 0 || static_cast<uint64_t>(cfg.run.steps) <= step)
    throw std::runtime_error(fmt::format("key 'run.steps' = {} is not beyond step {} of checkpoint '{}': nothing "
                                         "left to train (raise run.steps)",
                                         cfg.run.steps, step, file.string()));
  if (step % round_steps(cfg) != 0)
    throw std::runtime_error(fmt::format("checkpoint '{}' is at step {}, not at a round of key 'aggregation.local_steps' "
                                         "= {} (resume with the local_steps it was written with)",
                                         file.string(), step, round_steps(cfg)));
  const uint64_t workers = data::require_scalar(c, "workers", file);
  if (workers != static_cast<uint64_t>(topo.workers()) && topo.worker_index() == 0)
    spdlog::warn("resuming checkpoint '{}' of {} workers with {} (key 'cluster.workers'): {}; the data is re-cut over "
                 "{} shards from where the epoch stood",
                 file.string(), workers, topo.workers(),
                 workers > static_cast<uint64_t>(topo.workers())
                     ? fmt::format("the momentum of {} is dropped", worker_range(topo.workers(), workers - 1))
                     : fmt::format("{} start(s) with zero momentum", worker_range(workers, topo.workers() - 1)),
                 topo.workers());
  restore_worker(c, file, topo.worker_index(), p, opt);
  if (topo.worker_index() == 0)  // the hash `signvote inspect` prints for array params
    spdlog::info("resumed '{}' at step {} (params hash {:#018x})", file.string(), step, data::hash_floats(p.params()));
  p.push(Flat::params), p.push(Flat::buffers), opt.to_device();
  const auto id = c.scalars.find("run_id");
  const auto ms = c.scalars.find("elapsed_ms");  // absent in checkpoints written before it
  return {file, step, id == c.scalars.end() ? 0 : id->second, ms == c.scalars.end() ? 0.0 : double(ms->second) / 1000.0};
}

}  // namespace signvote::worker
