#include "worker/worker.h"

#include "config/run_plan.h"
#include "signvote/sign_kernels.h"
#include "util/timer.h"
#include "worker/checkpointing.h"
#include "worker/encoder.h"
#include "worker/evaluation.h"
#include "worker/local_steps.h"
#include "worker/optimizer.h"
#include "worker/optimizer_state.h"
#include "worker/probes.h"
#include "worker/problem.h"
#include "worker/rounds.h"
#include "worker/step_engine.h"
#include "worker/step_hooks.h"
#include "worker/server_exchange.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <string>

namespace signvote::worker {
namespace {

using util::Clock;
double since(Clock::time_point t0) { return util::seconds_since(t0); }

CsvMode csv_mode(const TrainOptions& opt) { return {opt.overwrite, !opt.resume.empty()}; }

std::vector<size_t> shard_lengths(const ServerExchange& c) {
  std::vector<size_t> n;
  for (size_t s = 0; s < c.parts(); ++s) n.push_back(c.part(s).length);
  return n;
}

// State of one worker: problem, optimiser state, the round and its exchange.
class Worker final : public WorkerLoop {
 public:
  // gpu: the visible CUDA device place_on_gpu chose (cuda workers; Job places them)
  Worker(const Config& cfg, const TrainOptions& opt, const comm::Topology& topo, std::unique_ptr<Problem> problem,
         int gpu)
      : cfg_(cfg), topo_(topo), kind_(round_kind(cfg)), vote_(kind_ == RoundKind::vote),
        // local steps wrap the models built here; PyTorch workers run their own inner loop
        problem_(problem ? std::move(problem)
                         : with_local_steps(cfg, make_problem(cfg, topo.worker_index(), topo.workers(), gpu))),
        ops_(kernels::ops_for(cfg.aggregation.isa_kind)),
        client_(topo, reports_only(cfg) ? 0 : problem_->params().size(), round_format(cfg), bucket_coords(cfg)),
        encoder_(cfg, shard_lengths(client_), cfg.run.seed * 1000003u + static_cast<uint64_t>(topo.worker_index())),
        dense_(cfg.optimizer),
        state_(problem_->params().size(), vote_, dense_.adam(), encoder_.residual()),
        engine_(problem_->space() == MemSpace::cuda
                    ? make_cuda_engine(*problem_, topo, client_, state_, vote_, kind_ == RoundKind::allreduce)
                    : make_host_engine(*problem_, topo, ops_, state_, static_cast<int>(cfg.run.threads))),
        hooks_(cfg, topo, vote_, *problem_, client_),
        eval_(cfg, topo, opt.metrics_path, csv_mode(opt)),
        probes_(cfg, topo, opt.metrics_path, csv_mode(opt), problem_->params().size()) {
    round_ = make_round(kind_, RoundParts{cfg, topo, *problem_, client_, *engine_, dense_, encoder_, state_, report_,
                                          ops_, hooks_.invert_signs(), &groups_});
    std::filesystem::path resumed;
    if (!opt.resume.empty()) {
      const ResumePoint r = load_run_checkpoint(opt.resume, cfg, topo, *problem_, state_);
      start_ = r.step + round_steps(cfg);
      run_id_ = r.run_id;
      resumed_elapsed_s_ = last_checkpoint_s_ = r.elapsed_s;
      problem_->set_budget_progress(budget_progress(cfg.run, r.step, r.elapsed_s));  // as the server's clock resumes
      resumed = r.file;
    }
    if (opt.run_id && run_id_ && opt.run_id != run_id_)
      throw std::runtime_error(fmt::format("--run-id {:016x}: the checkpoint resumed belongs to run {:016x}", opt.run_id,
                                           run_id_));
    if (run_id_ == 0) run_id_ = opt.run_id ? opt.run_id : data::new_run_id();  // a new run (or the launcher's), or an old checkpoint
    if (!cfg.run.checkpoint_dir.empty()) claim_checkpoint_dir(opt, resumed);
  }

  uint64_t first_step() const override { return start_; }
  double elapsed_s() const override { return resumed_elapsed_s_; }

  void run() override {
    const uint64_t steps = static_cast<uint64_t>(cfg_.run.steps);
    for (uint64_t step = start_; step <= steps; step += round_steps(cfg_)) {  // rounds at inner steps H, 2H, ...
      probes_.maybe_run(*problem_, step);
      const bool stop = this->step(step);
      problem_->set_budget_progress(round_->exchange().progress(0));  // the inner schedule's clock (local steps)
      const bool last = stop || step == steps;
      if (problem_->has_validation() && (last || eval_due(step))) eval_.run(*problem_, step);
      if (!cfg_.run.checkpoint_dir.empty() && (last || checkpoint_due(step))) {
        save_run_checkpoint(cfg_, topo_, {step, run_id_, round_->exchange().elapsed_s()}, *problem_, state_, *writer_);
        last_checkpoint_s_ = round_->exchange().elapsed_s();
      }
      if (stop) break;
    }
    if (writer_) writer_->finish();  // the last checkpoint is on disk before the run ends
  }

 private:
  // run.checkpoint_every steps, or run.checkpoint_every_s seconds of server
  // 0's clock since the last one (the RESULT's elapsed_s: every worker agrees).
  bool checkpoint_due(uint64_t step) const {
    if (period_due(step, cfg_.run.checkpoint_every, round_steps(cfg_))) return true;
    return cfg_.run.checkpoint_every_s > 0 &&
           round_->exchange().elapsed_s() - last_checkpoint_s_ >= cfg_.run.checkpoint_every_s;
  }

  // Worker 0 writes the checkpoint files, so it alone checks the directory
  // (failures are agreed in train() before round 1); the other workers may
  // write their parts there (save_run_checkpoint).
  void claim_checkpoint_dir(const TrainOptions& opt, const std::filesystem::path& resumed) {
    ckpt_.emplace(cfg_.run.checkpoint_dir, static_cast<int>(cfg_.run.keep_checkpoints));
    if (topo_.worker_index() != 0) {
      writer_.emplace(*ckpt_);
      return;
    }
    std::error_code ec;
    const bool in_dir = !resumed.empty() && std::filesystem::equivalent(resumed.parent_path(), cfg_.run.checkpoint_dir, ec);
    const data::DirClaim c{run_id_, !opt.resume.empty(), start_ - 1, opt.rewind,
                           checkpoint_bytes(*problem_, state_, topo_.workers())};
    const std::string note = ckpt_->claim(c, in_dir);
    writer_.emplace(*ckpt_);
    spdlog::info("checkpoints go to {} (run {:016x}){}{}", cfg_.run.checkpoint_dir, run_id_, note.empty() ? "" : ": ", note);
  }

  OptimizerState& optimizer_state() override { return state_; }
  ParamGroups& param_groups() override { return groups_; }
  bool skipped() const override { return round_->exchange().skip_requested(); }

  bool eval_due(uint64_t step) const {
    if (cfg_.run.eval_every > 0) return period_due(step, cfg_.run.eval_every, round_steps(cfg_));
    return problem_->epoch_ended();
  }

  double clock_s() const override { return round_->exchange().elapsed_s(); }

  void leave(uint64_t step) override {
    report_ = WorkerReport{};
    report_.status = protocol::ErrorCode::worker_left;
    client_.set_leaving();
    client_.round_trip(step, report_);  // RoundError unless every worker left at this step
    if (!client_.everyone_left()) throw RoundError(fmt::format("rank {}: left at step {}, but the server went on", topo_.world_rank(), step));
  }

  // One training step: the side jobs before it, the gradient, the side jobs
  // after it, then the round (pack, exchange, apply). Returns true when the
  // server asked to stop after it.
  bool step(uint64_t step) override {
    hooks_.before_step(step, report_);  // weight hash, an injected wrong header
    round_->before_compute(step);       // the exchange begins (overlap: arms the backward pass's hook)
    const auto t0 = Clock::now();
    const std::string local_error = compute(step);
    hooks_.after_compute(step);         // an adversary's corruption of g
    report_.t_compute = static_cast<float>(since(t0));
    hooks_.before_round(step);          // an injected straggler's delay
    round_->run(step);
    if (!local_error.empty()) throw RoundError(local_error);  // reported and logged in compute()
    return round_->exchange().stop_requested();
  }

  // data -> forward/backward -> g (Problem::compute), its figures into the
  // report. A failure is reported to the server in the round (so nobody
  // waits for this rank) and returned, to be thrown after it.
  std::string compute(uint64_t step) {
    try {
      const StepResult r = problem_->compute(step);
      report_.loss = r.loss;
      report_.correct = r.correct;
      report_.samples = r.samples;
      return {};
    } catch (const std::exception& e) {
      report_.status = protocol::ErrorCode::worker_failed;
      spdlog::error("{}", e.what());
      return e.what();
    }
  }

  const Config& cfg_;
  const comm::Topology& topo_;
  RoundKind kind_;
  bool vote_;
  std::unique_ptr<Problem> problem_;
  const kernels::SignOps& ops_;
  ServerExchange client_;
  DenseEncoder encoder_;
  DenseOptimizer dense_;
  OptimizerState state_;  // m, v, e: what the round updates and checkpoints hold
  std::unique_ptr<StepEngine> engine_;
  StepHooks hooks_;
  ParamGroups groups_{cfg_};  // the PyTorch workers' tensors and groups (inactive for the C++ models)
  std::unique_ptr<Round> round_;
  Evaluator eval_;
  Prober probes_;
  std::optional<data::CheckpointDir> ckpt_;
  std::optional<CheckpointWriter> writer_;  // after ckpt_ (destroyed first: waits for its write)
  double last_checkpoint_s_ = 0;            // server 0's elapsed_s at the last checkpoint (or the resume)
  WorkerReport report_;
  uint64_t start_ = round_steps(cfg_);  // the first round's step (H with local steps)
  uint64_t run_id_ = 0;
  double resumed_elapsed_s_ = 0;
};

}  // namespace

std::unique_ptr<WorkerLoop> make_worker(const Config& cfg, const TrainOptions& opt, const comm::Topology& topo,
                                        std::unique_ptr<Problem> problem, int gpu) {
  return std::make_unique<Worker>(cfg, opt, topo, std::move(problem), gpu);
}

}  // namespace signvote::worker
