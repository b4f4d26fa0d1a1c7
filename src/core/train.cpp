#include "signvote/train.h"

#include "comm/mpi_check.h"
#include "comm/topology.h"
#include "core/collective.h"
#include "core/resources.h"
#include "server/server.h"
#include "server/vote_server.h"
#include "worker/vote_client.h"
#include "worker/worker.h"

namespace signvote {

int train(const Config& cfg, const TrainOptions& opt) {
  comm::Topology topo(static_cast<int>(cfg.cluster.servers), static_cast<int>(cfg.cluster.workers),
                      comm::NodeLayout{static_cast<int>(cfg.cluster.ranks_per_node), cfg.cluster.hierarchy == "node"});
  std::unique_ptr<server::ServerLoop> srv;
  std::unique_ptr<worker::WorkerLoop> wrk;
  std::string error = check_resources(cfg, topo.is_server());  // collective: every rank calls it
  try {
    if (!error.empty()) throw std::runtime_error(error);
    if (topo.is_server())
      srv = server::make_server(cfg, opt, topo);
    else
      wrk = worker::make_worker(cfg, opt, topo);
  } catch (const std::exception& e) {
    error = e.what();
  }
  agree_or_throw(error);  // nobody enters round 1 unless everyone is ready
  // Resumed workers agree on the first step; the server learns it here.
  uint64_t mine = wrk ? wrk->first_step() : 0, first = 0;
  SV_MPI_CHECK(MPI_Allreduce(&mine, &first, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD));
  double spent = wrk ? wrk->elapsed_s() : 0, elapsed = 0;  // the time budget already used (resume)
  SV_MPI_CHECK(MPI_Allreduce(&spent, &elapsed, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
  // Errors inside a round travel in the protocol (every rank is told and
  // leaves its loop); any other error ends the job (docs/reliability.md).
  try {
    if (srv) srv->run(first, elapsed); else wrk->run();
  } catch (const worker::RoundError& e) {
    throw PeerFailure(e.what());  // the server prints the reason once
  } catch (const server::RoundError&) {
    throw;  // every worker has been told; main() prints the reason
  } catch (const PeerFailure&) {
    throw;  // another server failed and printed the reason
  } catch (const std::exception& e) {
    abort_job(e.what());
  }
  return 0;
}

}  // namespace signvote
