// Job (job.h) and train(), the entry point of `signvote train`.
#include "signvote/train.h"

#include "comm/mpi_calls.h"
#include "comm/mpi_check.h"
#include "comm/round_error.h"
#include "comm/agreement.h"
#include "core/resources.h"
#include "core/job.h"
#include "server/shard_server.h"
#include "worker/placement.h"
#include "worker/server_exchange.h"

namespace signvote {

Job::Job(const Config& cfg, const TrainOptions& opt, std::unique_ptr<worker::Problem> external)
    : topo_(static_cast<int>(cfg.cluster.servers), static_cast<int>(cfg.cluster.workers),
            comm::NodeLayout{static_cast<int>(cfg.cluster.ranks_per_node), cfg.cluster.hierarchy_kind == Hierarchy::node}) {
  std::string error = check_resources(cfg, topo_.is_server());  // collective: every rank calls it
  int gpu = 0;
  if (!topo_.is_server() && !external && cfg.model.device_kind == ModelDevice::cuda) {
    try {  // collective over the workers: one that failed above still takes part
      gpu = worker::place_on_gpu(cfg, topo_, !error.empty());
    } catch (const std::exception& e) {
      if (error.empty()) error = e.what();
    }
  }
  try {
    if (!error.empty()) throw std::runtime_error(error);
    if (topo_.is_server())
      srv_ = server::make_server(cfg, opt, topo_);
    else
      wrk_ = worker::make_worker(cfg, opt, topo_, std::move(external), gpu);
  } catch (const std::exception& e) {
    error = e.what();
  }
  agree_or_throw(error);  // nobody enters round 1 unless everyone is ready
}

Job::~Job() = default;

void Job::start(uint64_t first_step, double elapsed_s, bool joining) {
  // Resumed workers agree on the first step; the server learns it here.
  uint64_t mine = wrk_ ? std::max(first_step, wrk_->first_step()) : 0;
  first_ = comm::allreduce_one(mine, comm::Op::max, comm::world());
  const uint64_t low = wrk_ && !joining ? mine : UINT64_MAX;  // the servers and joining workers have no say
  first_min_ = comm::allreduce_one(low, comm::Op::min, comm::world());
  if (first_min_ == UINT64_MAX) first_min_ = first_;  // every worker joined: nothing to agree on
  double spent = wrk_ ? std::max(elapsed_s, wrk_->elapsed_s()) : 0;  // the time budget already used (resume)
  elapsed_ = comm::allreduce_one(spent, comm::Op::max, comm::world());
}

void Job::run() {
  // Errors inside a round travel in the protocol (every rank is told and
  // leaves its loop); any other error ends the job (docs/reliability.md).
  try {
    if (srv_) srv_->run(first_, elapsed_); else wrk_->run();
  } catch (const RoundError& e) {
    if (srv_) throw;                                     // every worker has been told; main() prints the reason
    throw PeerFailure(e.what(), exit_status_of(e.code));  // a worker: the server prints the reason once
  } catch (const PeerFailure&) {
    throw;  // another server failed and printed the reason
  } catch (const comm::MpiError& e) {
    abort_job(e.what(), exit_status::infrastructure);  // a transport error: a restart may go on
  } catch (const std::exception& e) {
    abort_job(e.what());
  }
}

int train(const Config& cfg, const TrainOptions& opt) {
  Job job(cfg, opt);
  job.start();
  job.run();
  return 0;
}

}  // namespace signvote
