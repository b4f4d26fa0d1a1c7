#include "worker/checkpointing.h"

#include "comm/collectives.h"
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

// Per-worker writes need every worker to see the directory worker 0 claimed
// (DIR/signvote-run names this run); one worker that does not (no shared
// file system) keeps the gather into worker 0. Collective over the workers.
CheckpointWriter::Agreed agree_shared_dir(const data::CheckpointDir& dir, uint64_t run_id, const comm::Topology& topo) {
  comm::bcast(std::span<uint64_t>(&run_id, 1), 0, topo.workers_comm());  // worker 0's id names the directory
  const int sees = dir.owner() == run_id ? 1 : 0;
  const bool all = comm::allreduce_one(sees, comm::Op::min, topo.workers_comm()) == 1;
  if (topo.worker_index() == 0)
    spdlog::info("checkpoints: {}", all ? "every worker writes its own optimizer state (the directory is shared)"
                                        : "worker 0 gathers every worker's state (a worker does not see the directory)");
  return {all, run_id};
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
  if (g.state.empty()) c.scalars["parts"] = static_cast<uint64_t>(W);  // each worker wrote its own arrays
  for (size_t i = 0; i < arrays.size() && !g.state.empty(); ++i)
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

data::Checkpoint make_part(const RunPoint& at, OptimizerState& opt, int k) {
  data::Checkpoint c;
  for (const StateArray& a : opt.arrays())
    if (a.always || !a.values.empty())
      c.arrays[fmt::format("{}.{}", a.name, k)] = std::vector<float>(a.values.begin(), a.values.end());
  c.scalars["step"] = at.step;
  c.scalars["run_id"] = at.run_id;
  c.scalars["worker"] = static_cast<uint64_t>(k);
  return c;
}

CheckpointWriter::~CheckpointWriter() {
  if (pending_.valid()) pending_.wait();
}

void CheckpointWriter::write(Snapshot s) {
  finish();
  pending_ = std::async(std::launch::async, [this, s = std::move(s)] {
    const auto t0 = util::Clock::now();
    if (s.part) dir_.save_part(*s.part, s.step, s.worker, s.workers);
    if (!s.main) return;
    const auto file = dir_.save(*s.main, s.step);
    spdlog::info("step {}: checkpoint {} (snapshot {:.3f} s in the round, written in {:.3f} s beside it{})", s.step,
                 file.string(), s.snapshot_s, util::seconds_since(t0),
                 s.part ? fmt::format("; each of the {} workers writes its part", s.workers) : "");
  });
}

void CheckpointWriter::finish() {
  if (pending_.valid()) pending_.get();
}

void save_run_checkpoint(const Config& cfg, const comm::Topology& topo, const RunPoint& at, Problem& p,
                         OptimizerState& opt, CheckpointWriter& writer) {
  const auto t0 = util::Clock::now();
  if (!writer.agreed) writer.agreed = agree_shared_dir(writer.dir(), at.run_id, topo);
  const bool per_worker = writer.agreed->per_worker;
  p.pull(Flat::params), p.pull(Flat::buffers), opt.to_host();
  Gathered g;
  if (!per_worker)
    for (const StateArray& a : opt.arrays()) g.state.push_back(gather(a.values, topo));  // every array, empty or not
  g.buffers = gather(p.buffers(), topo);  // BN statistics and data positions: small, and buffers.mean needs all
  g.states = gather_strings(p.save_state(), topo);
  const int k = topo.worker_index();
  Snapshot s;
  s.worker = k, s.workers = topo.workers(), s.step = at.step;
  if (per_worker) s.part = make_part({at.step, writer.agreed->run_id, at.elapsed_s}, opt, k);
  if (k == 0) s.main = make_checkpoint(cfg, at, p.params(), opt, g, topo.workers());
  s.snapshot_s = util::seconds_since(t0);
  if (s.part || s.main) writer.write(std::move(s));
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
  data::Checkpoint c = data::read_checkpoint(file);
  data::add_part(c, file, topo.worker_index());  // this worker's optimizer arrays, when each worker wrote its own
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
