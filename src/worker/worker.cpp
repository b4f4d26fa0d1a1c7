#include "worker/worker.h"

#include "comm/mpi_check.h"
#include "data/hash.h"
#include "signvote/sign_kernels.h"
#include "server/aggregation.h"
#include "signvote/adversary.h"
#include "worker/checkpointing.h"
#include "worker/encoder.h"
#include "worker/evaluation.h"
#include "worker/optimizer.h"
#include "worker/placement.h"
#include "worker/probes.h"
#include "worker/problem.h"
#include "worker/step_engine.h"
#include "worker/vote_client.h"

#include <mpi.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <thread>

namespace signvote::worker {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

CsvMode csv_mode(const TrainOptions& opt) { return {opt.overwrite, !opt.resume.empty()}; }

// State of one worker: problem, optimiser buffers, the round client.
class Worker final : public WorkerLoop {
 public:
  Worker(const Config& cfg, const TrainOptions& opt, const comm::Topology& topo)
      : cfg_(cfg), topo_(topo), vote_(cfg.aggregation.method == "majority_vote"),
        dense_method_(server::is_dense_method(cfg.aggregation.method)),
        adversary_(cfg.is_adversary(topo.worker_index())), mode_(parse_adversary_mode(cfg.adversary.mode)),
        problem_(make_problem(cfg, topo.worker_index(), topo.workers(),
                              cfg.model.device == "cuda" ? place_on_gpu(cfg, topo) : 0)),
        ops_(kernels::ops_named(cfg.aggregation.isa)),
        client_(topo, vote_ || dense_method_ ? problem_->params().size() : 0, server::round_format(cfg)),
        dense_(cfg.optimizer, vote_ ? 0 : problem_->params().size()),
        engine_(problem_->space() == MemSpace::cuda ? make_cuda_engine(*problem_, topo, client_, vote_, !vote_ && !dense_method_, dense_)
                                                    : make_host_engine(*problem_, topo, ops_, vote_)),
        encoder_(cfg, problem_->params().size(), cfg.run.seed * 1000003u + static_cast<uint64_t>(topo.worker_index())),
        eval_(cfg, topo, opt.metrics_path, csv_mode(opt)),
        probes_(cfg, topo, opt.metrics_path, csv_mode(opt), problem_->params().size()) {
    std::filesystem::path resumed;
    if (!opt.resume.empty()) {
      const ResumePoint r = load_run_checkpoint(opt.resume, cfg, topo, *problem_, state());
      problem_->push(Flat::params), problem_->push(Flat::buffers), engine_->sync_to_device();
      start_ = r.step + 1;
      run_id_ = r.run_id;
      resumed = r.file;
    }
    if (run_id_ == 0) run_id_ = new_run_id();  // a new run, or a checkpoint older than run ids
    if (!cfg.run.checkpoint_dir.empty()) claim_checkpoint_dir(opt, resumed);
  }

  uint64_t first_step() const override { return start_; }

  void run() override {
    const uint64_t steps = static_cast<uint64_t>(cfg_.run.steps);
    for (uint64_t step = start_; step <= steps; ++step) {
      probes_.maybe_run(*problem_, step);
      const bool stop = one_step(step);
      const bool last = stop || step == steps;
      if (problem_->has_validation() && (last || eval_due(step))) eval_.run(*problem_, step);
      if (!cfg_.run.checkpoint_dir.empty() && (last || (cfg_.run.checkpoint_every > 0 && step % cfg_.run.checkpoint_every == 0))) {
        problem_->pull(Flat::params), problem_->pull(Flat::buffers), engine_->sync_to_host();
        save_run_checkpoint(cfg_, topo_, step, run_id_, *problem_, state(), topo_.worker_index() == 0 ? &*ckpt_ : nullptr);
      }
      if (stop) break;
    }
  }

 private:
  // Worker 0 writes every checkpoint, so it alone checks the directory
  // (failures are agreed in train() before round 1).
  void claim_checkpoint_dir(const TrainOptions& opt, const std::filesystem::path& resumed) {
    if (topo_.worker_index() != 0) return;
    ckpt_.emplace(cfg_.run.checkpoint_dir, static_cast<int>(cfg_.run.keep_checkpoints));
    std::error_code ec;
    const bool in_dir = !resumed.empty() && std::filesystem::equivalent(resumed.parent_path(), cfg_.run.checkpoint_dir, ec);
    const data::DirClaim c{run_id_, !opt.resume.empty(), start_ - 1, opt.rewind,
                           checkpoint_bytes(*problem_, state(), topo_.workers())};
    const std::string note = ckpt_->claim(c, in_dir);
    spdlog::info("checkpoints go to {} (run {:016x}){}{}", cfg_.run.checkpoint_dir, run_id_, note.empty() ? "" : ": ", note);
  }

  OptimizerState state() {
    return vote_ ? OptimizerState{engine_->momentum(), {}, {}} : OptimizerState{dense_.state1(), dense_.state2(), encoder_.residual()};
  }

  bool eval_due(uint64_t step) const {
    if (cfg_.run.eval_every > 0) return step % static_cast<uint64_t>(cfg_.run.eval_every) == 0;
    return problem_->epoch_ended();
  }

  // One round; returns true when the server asked to stop after it.
  bool one_step(uint64_t step) {
    const bool hash_step = cfg_.run.hash_every > 0 && step % static_cast<uint64_t>(cfg_.run.hash_every) == 0;
    if (hash_step) problem_->pull(Flat::params);
    report_.weight_hash = hash_step ? (data::hash_floats(problem_->params()) | 1u) : 0;  // never 0 on hash steps
    auto t0 = Clock::now();
    std::string local_error;
    try {
      const StepResult r = problem_->compute(step);
      report_.loss = r.loss;
      report_.correct = r.correct;
      report_.samples = r.samples;
    } catch (const std::exception& e) {
      local_error = e.what();  // tell the server, so nobody waits for us
      report_.status = protocol::ErrorCode::worker_failed;
      spdlog::error("{}", local_error);
    }
    // Adversaries corrupt their estimate before compression ("invert" acts
    // on the packed signs in majority_vote and negates the gradient otherwise).
    if (adversary_ && (mode_ != AdversaryMode::invert || !vote_)) {
      problem_->pull(Flat::grads);  // cuda: corrupted on the host, then copied back
      corrupt_gradient(mode_, static_cast<float>(cfg_.adversary.scale), problem_->grads(),
                       cfg_.run.seed + 7919u * static_cast<uint64_t>(topo_.worker_index() + 1), step);
      problem_->push(Flat::grads);
    }
    report_.t_compute = static_cast<float>(since(t0));
    inject_delay(step);
    if (vote_) vote_round(step); else if (dense_method_) dense_round(step); else allreduce_round(step);
    if (!local_error.empty()) throw RoundError(local_error);  // reported and logged above
    return client_.stop_requested();
  }

  // faults.delay_*: a test's straggler, late on every `every`-th step.
  void inject_delay(uint64_t step) const {
    const auto& f = cfg_.faults;
    if (f.delay_rank != topo_.world_rank() || f.delay_ms <= 0 || step % static_cast<uint64_t>(f.every) != 0) return;
    spdlog::info("faults: rank {} delays its vote of step {} by {} ms", topo_.world_rank(), step, f.delay_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(f.delay_ms));
  }

  // One round trip with the server; its wall time is this step's t_comm.
  void exchange(uint64_t step) {
    const auto t0 = Clock::now();
    client_.post(step, report_);
    client_.wait();
    report_.t_comm = static_cast<float>(since(t0));
  }

  void flag_nan(size_t nan) {
    if (nan && report_.status == protocol::ErrorCode::ok) report_.status = protocol::ErrorCode::nan_gradient, report_.err_got = nan;
  }

  // Signum: m = b m + (1-b) g packed per shard; vote; x -= lr (s + wd x).
  void vote_round(uint64_t step) {
    const float beta = cfg_.optimizer.name == "signsgd" ? 0.f : static_cast<float>(cfg_.optimizer.momentum);
    auto t0 = Clock::now();
    flag_nan(engine_->momentum_pack(client_, beta, adversary_ && mode_ == AdversaryMode::invert));
    report_.t_pack = static_cast<float>(since(t0));
    exchange(step);
    t0 = Clock::now();
    engine_->apply(client_, static_cast<float>(lr_at(cfg_.optimizer, step)), static_cast<float>(cfg_.optimizer.weight_decay));
    report_.t_apply = static_cast<float>(since(t0));
    spdlog::debug("step {} bytes sent {} recv {}", step, client_.bytes_sent(), client_.bytes_recv());
  }

  // Baseline: fp32 all-reduce average (MPI, or NCCL on cuda workers), then
  // SGD/Adam; a REPORT to the server first, which validates every worker
  // before anyone enters the collective.
  void allreduce_round(uint64_t step) {
    flag_nan(engine_->count_nan_grads());
    report_.t_pack = 0;
    auto t0 = Clock::now();
    client_.post(step, report_);
    client_.wait();
    engine_->allreduce_grads();
    report_.t_comm = static_cast<float>(since(t0));
    t0 = Clock::now();
    engine_->dense_step(dense_, step, 1.f / static_cast<float>(topo_.workers()));
    report_.t_apply = static_cast<float>(since(t0));
    spdlog::debug("step {} bytes sent {} recv {}", step, 4 * problem_->params().size(), 4 * problem_->params().size());
  }

  // Dense methods through the server: encode, aggregate there, SGD/Adam
  // here (cuda workers stage g and x through their host mirrors).
  void dense_round(uint64_t step) {
    auto t0 = Clock::now();
    problem_->pull(Flat::grads);
    flag_nan(encoder_.encode(problem_->grads(), step, client_.out_bits(0)));
    report_.t_pack = static_cast<float>(since(t0));
    exchange(step);
    t0 = Clock::now();
    problem_->pull(Flat::params);
    auto x = problem_->params();
    dense_.step(x, {client_.result_floats(0), x.size()}, step);
    problem_->push(Flat::params);
    report_.t_apply = static_cast<float>(since(t0));
  }

  const Config& cfg_;
  const comm::Topology& topo_;
  bool vote_, dense_method_, adversary_;
  AdversaryMode mode_;
  std::unique_ptr<Problem> problem_;
  const kernels::SignOps& ops_;
  VoteClient client_;
  DenseOptimizer dense_;
  std::unique_ptr<StepEngine> engine_;
  DenseEncoder encoder_;
  Evaluator eval_;
  Prober probes_;
  std::optional<data::CheckpointDir> ckpt_;
  WorkerReport report_;
  uint64_t start_ = 1;
  uint64_t run_id_ = 0;
};

}  // namespace

std::unique_ptr<WorkerLoop> make_worker(const Config& cfg, const TrainOptions& opt, const comm::Topology& topo) {
  return std::make_unique<Worker>(cfg, opt, topo);
}

}  // namespace signvote::worker
