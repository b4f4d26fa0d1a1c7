// ExternalWorker (signvote/external.h): the join (serve.h), then a Session
// whose worker computes nothing itself (worker/external_problem.h).
#include "signvote/external.h"

#include "core/collective.h"
#include "core/serve.h"
#include "core/session.h"
#include "data/hash.h"
#include "worker/external_problem.h"
#include "worker/vote_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace signvote {

struct ExternalWorker::Impl {
  Config cfg;
  std::optional<Session> session;
  worker::Problem* problem = nullptr;  // owned by the session's worker
  bool started = false, finished = false;
  uint64_t done = 0;  // steps run (or resumed from)
  double resumed_elapsed = 0;

  worker::WorkerLoop& wrk() { return *session->worker(); }
  void start() {
    if (started) return;
    session->start(done + 1, resumed_elapsed);
    done = session->first_step() - 1;  // every worker's, agreed
    started = true;
  }
};

namespace {

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
  auto problem = worker::make_external_problem(mem);  // before any collective: purely local checks
  impl_->problem = problem.get();
  impl_->cfg = join_as_worker(settings, mem.dim);
  joining([&] {
    impl_->session.emplace(impl_->cfg, TrainOptions{}, std::move(problem));
    return 0;
  });
}

ExternalWorker::~ExternalWorker() = default;

int ExternalWorker::rank() const { return impl_->session->topology().world_rank(); }
int ExternalWorker::worker_index() const { return impl_->session->topology().worker_index(); }
int ExternalWorker::workers() const { return impl_->session->topology().workers(); }
int ExternalWorker::servers() const { return impl_->session->topology().servers(); }
std::string ExternalWorker::config_yaml() const { return dump_config(impl_->cfg); }
uint64_t ExternalWorker::max_steps() const { return static_cast<uint64_t>(impl_->cfg.run.steps); }
uint64_t ExternalWorker::steps_done() const { return impl_->done; }
bool ExternalWorker::finished() const { return impl_->finished; }

void ExternalWorker::resume(uint64_t step, double elapsed_s) {
  if (impl_->started) throw std::logic_error("resume() goes before the first step()");
  impl_->done = step;
  impl_->resumed_elapsed = elapsed_s;
}

bool ExternalWorker::step(float loss, uint32_t correct, uint32_t samples) {
  auto& I = *impl_;
  if (I.finished)
    throw RunStopped(fmt::format("rank {}: the run ended after step {} (run.steps = {} or run.time_limit_s)", rank(),
                                 I.done, I.cfg.run.steps), "finished", rank());
  I.start();
  worker::set_external_result(*I.problem, loss, correct, samples);
  const uint64_t step = I.done + 1;
  bool stop = false;
  try {
    stop = I.wrk().step(step);
  } catch (const worker::RoundError& e) {
    I.finished = true;
    throw RunStopped(e.what(), protocol::error_name(e.code), e.offender >= 0 ? e.offender : rank());
  }
  I.done = step;
  I.finished = stop || step >= static_cast<uint64_t>(I.cfg.run.steps);
  return I.finished;
}

void ExternalWorker::leave() {
  auto& I = *impl_;
  if (I.finished) return;  // the server has ended the run already
  I.start();
  I.finished = true;
  try {
    I.wrk().leave(I.done + 1);
  } catch (const worker::RoundError& e) {
    throw RunStopped(e.what(), protocol::error_name(e.code), e.offender >= 0 ? e.offender : rank());
  }
}

std::vector<float> ExternalWorker::momentum() {
  impl_->wrk().sync_state(false);
  const auto m = impl_->wrk().state().m;
  return {m.begin(), m.end()};
}

void ExternalWorker::set_momentum(const float* m, size_t n) {
  const auto dst = impl_->wrk().state().m;
  if (n != dst.size())
    throw std::invalid_argument(fmt::format("momentum of {} values, but the parameters have {}", n, dst.size()));
  std::copy_n(m, n, dst.data());
  impl_->wrk().sync_state(true);
}

double ExternalWorker::elapsed_s() const {
  return impl_->started && impl_->done > 0 ? impl_->session->worker()->clock_s() : impl_->resumed_elapsed;
}

uint64_t hash_floats(const float* x, size_t n) { return data::hash_floats({x, n}); }

}  // namespace signvote
