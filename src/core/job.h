// The sequence of collectives every rank of a run goes through, written
// once and shared by `signvote train`, `signvote serve` and the PyTorch
// workers (signvote/external.h), so that the two sides always match:
//
//   Job()      Topology (communicator splits) -> check_resources ->
//              the server or worker is built -> agree_or_throw
//   start()    first step (MAX over ranks: resumed workers) ->
//              training time already spent (MAX; the budget clock)
//   run()      the rounds, with train()'s error policy
#pragma once

#include "comm/topology.h"
#include "server/server.h"
#include "signvote/train.h"
#include "worker/problem.h"
#include "worker/worker.h"

#include <memory>

namespace signvote {

class Job {
 public:
  // Collective. `external`: a worker's problem from outside (PyTorch).
  Job(const Config& cfg, const TrainOptions& opt, std::unique_ptr<worker::Problem> external = {});
  ~Job();
  // Collective: the first step and the time already spent. A worker may
  // pass its own (an external worker resuming from its state_dict()); a
  // `joining` one (new to a resumed job) has no say in the agreement.
  void start(uint64_t first_step = 0, double elapsed_s = 0, bool joining = false);
  // The rounds: server loop or worker loop (not for external workers).
  void run();
  const comm::Topology& topology() const { return topo_; }
  worker::WorkerLoop* worker() { return wrk_.get(); }  // null on servers
  uint64_t first_step() const { return first_; }
  // Every worker passed or resumed to the same first step.
  bool workers_agree_on_start() const { return first_min_ == first_; }
  uint64_t lowest_first_step() const { return first_min_; }

 private:
  comm::Topology topo_;
  std::unique_ptr<server::ServerLoop> srv_;
  std::unique_ptr<worker::WorkerLoop> wrk_;
  uint64_t first_ = 1, first_min_ = 1;
  double elapsed_ = 0;
};

}  // namespace signvote
