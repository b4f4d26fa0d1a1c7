// ExternalWorker (signvote/external.h): the join (serve.h), then a Job
// whose worker computes nothing itself (worker/external_problem.h).
#include "signvote/external.h"

#include "comm/mpi_calls.h"
#include "config/run_plan.h"
#include "comm/agreement.h"
#include "core/serve.h"
#include "core/job.h"
#include "formats/hash.h"
#include "worker/external_problem.h"
#include "worker/server_exchange.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <exception>
#include <optional>

namespace signvote {

struct ExternalWorker::Impl {
  Config cfg;
  int device = -1;  // the buffers' CUDA device, current during every call (-1: host memory)
  std::optional<Job> job;
  worker::Problem* problem = nullptr;  // owned by the job's worker
  bool started = false, finished = false;
  bool joining = false;  // new to a resumed job (join()): takes the others' first step
  std::string why_finished = "run.steps or run.time_limit_s reached";
  uint64_t done = 0;  // steps run (or resumed from); rounds come every h of them (aggregation.local_steps)
  uint64_t h() const { return round_steps(cfg); }
  double resumed_elapsed = 0, clock = 0;  // the budget clock: resumed, then of the last good round

  worker::WorkerLoop& wrk() { return *job->worker(); }
  int rank() const { return job->topology().world_rank(); }
  // Collective with the server (Job::start) at the first step() or leave().
  void start() {
    if (started) return;
    job->start(done + h(), resumed_elapsed, joining);
    const uint64_t mine = done + h();
    done = job->first_step() - h();  // every worker's, agreed
    clock = resumed_elapsed;
    started = true;
    // Resumed at the end: the server runs no round, so nothing is sent (not even a leave).
    if (done >= static_cast<uint64_t>(cfg.run.steps)) finished = true, why_finished = "resumed at run.steps";
    if (!job->workers_agree_on_start())  // every worker sees it: all raise, then all leave at one step
      throw RunStopped(fmt::format("rank {}: the workers start at different steps ({} to {}; this one at {}): "
                                   "every worker loads its own state_dict() before its first step()",
                                   rank(), job->lowest_first_step(), done + h(), mine), "resume_mismatch", rank());
  }
};

namespace {

// This step's presence and lrs (empty: every tensor, the configured values).
void set_groups(worker::ParamGroups& pg, const StepGroups& g) {
  if (!pg.active()) {
    if (g.tensors || g.groups)
      throw std::invalid_argument("step: tensors and groups given, but the job has no model.tensors (set at the join)");
    return;
  }
  if (g.tensors == 0 && g.groups == 0) return pg.set_default_step();
  if ((g.tensors && !g.present) || (g.groups && (!g.lr || !g.weight_decay)))
    throw std::invalid_argument("step: a null presence, lr or weight decay array");
  pg.set_step({g.present, g.tensors}, {g.lr, g.groups}, {g.weight_decay, g.groups});
}

// Setup errors as JoinError; PeerFailure carries the failing rank's reason.
template <class F>
auto joining(F&& f) {
  try {
    return f();
  } catch (const JoinError&) {
    throw;
  } catch (const std::exception& e) {
    throw JoinError(e.what(), false);
  }
}

}  // namespace

ExternalWorker::ExternalWorker(const std::vector<std::string>& settings, const ExternalMemory& mem)
    : impl_(std::make_unique<Impl>()) {
  std::unique_ptr<worker::Problem> problem;
  std::string local;  // a bad buffer still joins, so that every rank hears of it
  try {
    ExternalMemory m = mem;
    m.device = impl_->device = worker::resolve_device(mem);
    problem = worker::make_external_problem(m);
  } catch (const std::exception& e) {
    local = e.what();
  }
  impl_->problem = problem.get();
  impl_->cfg = join_as_worker(settings, mem.dim, local, mem.space == MemSpace::cuda ? "cuda" : "cpu");
  joining([&] {
    worker::DeviceScope on(impl_->device);  // the engine's buffers go on the parameters' device
    impl_->job.emplace(impl_->cfg, TrainOptions{}, std::move(problem));
    return 0;
  });
}

ExternalWorker::~ExternalWorker() {
  try {
    worker::DeviceScope on(impl_->device);  // the engine frees its buffers on their device
    impl_.reset();
  } catch (const std::exception&) {  // the device could not be set: free them all the same
    impl_.reset();
  }
}

int ExternalWorker::rank() const { return impl_->job->topology().world_rank(); }
int ExternalWorker::worker_index() const { return impl_->job->topology().worker_index(); }
int ExternalWorker::workers() const { return impl_->job->topology().workers(); }
int ExternalWorker::servers() const { return impl_->job->topology().servers(); }
std::string ExternalWorker::config_yaml() const { return dump_config(impl_->cfg); }
uint64_t ExternalWorker::max_steps() const { return static_cast<uint64_t>(impl_->cfg.run.steps); }
uint64_t ExternalWorker::steps_done() const { return impl_->done; }
bool ExternalWorker::finished() const { return impl_->finished; }

void ExternalWorker::resume(uint64_t step, double elapsed_s) {
  if (impl_->started) throw std::logic_error("signvote: load_state_dict() (a resume) goes before the first step()");
  if (step % impl_->h() != 0)
    throw std::invalid_argument(fmt::format("signvote: a state of step {} is not at a round boundary of "
                                            "aggregation.local_steps = {}", step, impl_->h()));
  impl_->done = step;
  impl_->resumed_elapsed = elapsed_s;
}

void ExternalWorker::join() {
  if (impl_->started) throw std::logic_error("signvote: join_resumed() goes before the first step()");
  impl_->joining = true;
}

bool ExternalWorker::step(float loss, uint32_t correct, uint32_t samples, const StepGroups& groups) {
  auto& I = *impl_;
  worker::DeviceScope on(I.device);
  I.start();
  if (I.finished)
    throw RunStopped(fmt::format("rank {}: the run ended after step {} ({})", rank(), I.done, I.why_finished), "finished",
                     rank());
  std::string bad;  // a bad presence or lr fails this worker's round, so that every rank stops
  try {
    set_groups(I.wrk().param_groups(), groups);
  } catch (const std::invalid_argument& e) {
    bad = fmt::format("rank {}: {}", rank(), e.what());
  }
  worker::set_external_result(*I.problem, loss, correct, samples, bad);
  const uint64_t step = I.done + I.h();
  bool stop = false;
  try {
    stop = I.wrk().step(step);
  } catch (const RoundError& e) {
    I.finished = true;
    I.why_finished = "the server stopped it";
    throw RunStopped(e.what(), protocol::error_name(e.code), e.offender >= 0 ? e.offender : rank());
  }
  I.done = step;
  I.clock = I.wrk().clock_s();
  I.finished = stop || step >= static_cast<uint64_t>(I.cfg.run.steps);
  return I.finished;
}

bool ExternalWorker::skipped() const { return impl_->started && impl_->wrk().skipped(); }

void ExternalWorker::leave() {
  auto& I = *impl_;
  worker::DeviceScope on(I.device);
  std::exception_ptr start_error;  // a resume mismatch: leave all the same, so that the server ends
  try {
    I.start();
  } catch (const RunStopped&) {
    start_error = std::current_exception();
  }
  if (I.finished) return;  // the server has ended the run already
  I.finished = true;
  I.why_finished = "this worker left";
  try {
    I.wrk().leave(I.done + I.h());
  } catch (const RoundError& e) {
    throw RunStopped(e.what(), protocol::error_name(e.code), e.offender >= 0 ? e.offender : rank());
  }
  if (start_error) std::rethrow_exception(start_error);
}

void ExternalWorker::average(float* x, size_t n) {
  const auto& topo = impl_->job->topology();
  worker::DeviceScope on(impl_->device);  // x is host memory, but a CUDA-aware MPI may look at the device
  if (n > static_cast<size_t>(INT_MAX)) throw std::invalid_argument("average: more than 2^31-1 values");
  comm::allreduce(std::span<float>(x, n), comm::Op::sum, topo.workers_comm());
  const float w = 1.f / static_cast<float>(topo.workers());
  for (size_t i = 0; i < n; ++i) x[i] *= w;
}

std::vector<float> ExternalWorker::momentum() {
  worker::DeviceScope on(impl_->device);
  auto& state = impl_->wrk().optimizer_state();
  state.to_host();
  const auto m = state.m();
  return {m.begin(), m.end()};
}

void ExternalWorker::set_momentum(const float* m, size_t n) {
  worker::DeviceScope on(impl_->device);
  auto& state = impl_->wrk().optimizer_state();
  const auto dst = state.m();
  if (n != dst.size())
    throw std::invalid_argument(fmt::format("momentum of {} values, but the parameters have {}", n, dst.size()));
  std::copy_n(m, n, dst.data());
  state.to_device();
}

double ExternalWorker::elapsed_s() const {
  return impl_->started ? impl_->clock : impl_->resumed_elapsed;
}

uint64_t hash_floats(const float* x, size_t n) { return data::hash_floats({x, n}); }

}  // namespace signvote
