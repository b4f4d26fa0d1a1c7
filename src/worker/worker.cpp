#include "worker/worker.h"

#include "comm/mpi_check.h"
#include "formats/hash.h"
#include "signvote/sign_kernels.h"
#include "signvote/adversary.h"
#include "worker/checkpointing.h"
#include "worker/encoder.h"
#include "worker/evaluation.h"
#include "worker/optimizer.h"
#include "worker/probes.h"
#include "worker/problem.h"
#include "worker/rounds.h"
#include "worker/step_engine.h"
#include "util/timer.h"
#include "worker/vote_client.h"

#include <mpi.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <thread>

namespace signvote::worker {
namespace {

using util::Clock;
double since(Clock::time_point t0) { return util::seconds_since(t0); }

CsvMode csv_mode(const TrainOptions& opt) { return {opt.overwrite, !opt.resume.empty()}; }

std::vector<size_t> shard_lengths(const VoteClient& c) {
  std::vector<size_t> n;
  for (size_t s = 0; s < c.parts(); ++s) n.push_back(c.part(s).length);
  return n;
}

// State of one worker: problem, optimiser buffers, the round client.
class Worker final : public WorkerLoop {
 public:
  // gpu: the visible CUDA device place_on_gpu chose (cuda workers; Job places them)
  Worker(const Config& cfg, const TrainOptions& opt, const comm::Topology& topo, std::unique_ptr<Problem> problem,
         int gpu)
      : cfg_(cfg), topo_(topo), kind_(round_kind(cfg)), vote_(kind_ == RoundKind::vote),
        adversary_(cfg.is_adversary(topo.worker_index())), mode_(parse_adversary_mode(cfg.adversary.mode)),
        problem_(problem ? std::move(problem)
                         : make_problem(cfg, topo.worker_index(), topo.workers(), gpu)),
        ops_(kernels::ops_named(cfg.aggregation.isa)),
        client_(topo, reports_only(cfg) ? 0 : problem_->params().size(), round_format(cfg), bucket_coords(cfg)),
        dense_(cfg.optimizer, vote_ ? 0 : problem_->params().size()),
        engine_(problem_->space() == MemSpace::cuda ? make_cuda_engine(*problem_, topo, client_, vote_, kind_ == RoundKind::allreduce, dense_)
                                                    : make_host_engine(*problem_, topo, ops_, vote_)),
        encoder_(cfg, shard_lengths(client_), cfg.run.seed * 1000003u + static_cast<uint64_t>(topo.worker_index())),
        eval_(cfg, topo, opt.metrics_path, csv_mode(opt)),
        probes_(cfg, topo, opt.metrics_path, csv_mode(opt), problem_->params().size()) {
    round_ = make_round(kind_, RoundParts{cfg, topo, *problem_, client_, *engine_, dense_, encoder_, report_, ops_,
                                          adversary_ && mode_ == AdversaryMode::invert});
    std::filesystem::path resumed;
    if (!opt.resume.empty()) {
      const ResumePoint r = load_run_checkpoint(opt.resume, cfg, topo, *problem_, state());
      problem_->push(Flat::params), problem_->push(Flat::buffers), engine_->sync_to_device();
      start_ = r.step + 1;
      run_id_ = r.run_id;
      resumed_elapsed_s_ = r.elapsed_s;
      resumed = r.file;
    }
    if (run_id_ == 0) run_id_ = new_run_id();  // a new run, or a checkpoint older than run ids
    if (!cfg.run.checkpoint_dir.empty()) claim_checkpoint_dir(opt, resumed);
  }

  uint64_t first_step() const override { return start_; }
  double elapsed_s() const override { return resumed_elapsed_s_; }

  void run() override {
    const uint64_t steps = static_cast<uint64_t>(cfg_.run.steps);
    for (uint64_t step = start_; step <= steps; ++step) {
      probes_.maybe_run(*problem_, step);
      const bool stop = this->step(step);
      const bool last = stop || step == steps;
      if (problem_->has_validation() && (last || eval_due(step))) eval_.run(*problem_, step);
      if (!cfg_.run.checkpoint_dir.empty() && (last || (cfg_.run.checkpoint_every > 0 && step % cfg_.run.checkpoint_every == 0))) {
        problem_->pull(Flat::params), problem_->pull(Flat::buffers), engine_->sync_to_host();
        save_run_checkpoint(cfg_, topo_, {step, run_id_, round_->exchange().elapsed_s()}, *problem_, state(),
                            topo_.worker_index() == 0 ? &*ckpt_ : nullptr);
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

  OptimizerState state() override {
    return vote_ ? OptimizerState{engine_->momentum(), {}, {}} : OptimizerState{dense_.state1(), dense_.state2(), encoder_.residual()};
  }

  bool eval_due(uint64_t step) const {
    if (cfg_.run.eval_every > 0) return step % static_cast<uint64_t>(cfg_.run.eval_every) == 0;
    return problem_->epoch_ended();
  }

  double clock_s() const override { return round_->exchange().elapsed_s(); }

  void sync_state(bool to_device) override {
    if (to_device) engine_->sync_to_device(); else engine_->sync_to_host();
  }

  void leave(uint64_t step) override {
    report_ = WorkerReport{};
    report_.status = protocol::ErrorCode::worker_left;
    client_.set_leaving();
    client_.round_trip(step, report_);  // RoundError unless every worker left at this step
    if (!client_.everyone_left()) throw RoundError(fmt::format("rank {}: left at step {}, but the server went on", topo_.world_rank(), step));
  }

  // One round; returns true when the server asked to stop after it.
  bool step(uint64_t step) override {
    const bool hash_step = cfg_.run.hash_every > 0 && step % static_cast<uint64_t>(cfg_.run.hash_every) == 0;
    if (hash_step) problem_->pull(Flat::params);
    report_.weight_hash = hash_step ? (data::hash_floats(problem_->params()) | 1u) : 0;  // never 0 on hash steps
    auto t0 = Clock::now();
    std::string local_error;
    // faults.wrong_step_*: one wrong header, seen by the last shard alone
    // (armed before the step, so an overlapped round sends it this step).
    if (cfg_.faults.wrong_step_rank == topo_.world_rank() && cfg_.faults.wrong_step_at == static_cast<int64_t>(step))
      client_.inject_wrong_header(client_.parts() - 1, cfg_.faults.wrong_field);
    round_->before_compute(step);
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
    if (adversary_ && !server_simulated(mode_) && (mode_ != AdversaryMode::invert || !vote_)) {
      problem_->pull(Flat::grads);  // cuda: corrupted on the host, then copied back
      corrupt_gradient(mode_, static_cast<float>(cfg_.adversary.scale), problem_->grads(),
                       cfg_.run.seed + 7919u * static_cast<uint64_t>(topo_.worker_index() + 1), step);
      problem_->push(Flat::grads);
    }
    report_.t_compute = static_cast<float>(since(t0));
    inject_delay(step);
    round_->run(step);
    if (!local_error.empty()) throw RoundError(local_error);  // reported and logged above
    return round_->exchange().stop_requested();
  }

  // faults.delay_*: a test's straggler, late on every `every`-th step.
  void inject_delay(uint64_t step) const {
    const auto& f = cfg_.faults;
    if (f.delay_rank != topo_.world_rank() || f.delay_ms <= 0 || step % static_cast<uint64_t>(f.every) != 0) return;
    spdlog::info("faults: rank {} delays its vote of step {} by {} ms", topo_.world_rank(), step, f.delay_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(f.delay_ms));
  }

  const Config& cfg_;
  const comm::Topology& topo_;
  RoundKind kind_;
  bool vote_, adversary_;
  AdversaryMode mode_;
  std::unique_ptr<Problem> problem_;
  const kernels::SignOps& ops_;
  VoteClient client_;
  DenseOptimizer dense_;
  std::unique_ptr<StepEngine> engine_;
  std::unique_ptr<Round> round_;
  DenseEncoder encoder_;
  Evaluator eval_;
  Prober probes_;
  std::optional<data::CheckpointDir> ckpt_;
  WorkerReport report_;
  uint64_t start_ = 1;
  uint64_t run_id_ = 0;
  double resumed_elapsed_s_ = 0;
};

}  // namespace

std::unique_ptr<WorkerLoop> make_worker(const Config& cfg, const TrainOptions& opt, const comm::Topology& topo,
                                        std::unique_ptr<Problem> problem, int gpu) {
  return std::make_unique<Worker>(cfg, opt, topo, std::move(problem), gpu);
}

}  // namespace signvote::worker
