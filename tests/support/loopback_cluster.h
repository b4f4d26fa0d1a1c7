// S servers (world ranks 0..S-1) and W workers (ranks S..S+W-1) as objects
// in one process: one comm::LoopbackHub, one LoopbackTransport per rank, and
// the comm::Peers each side's round objects take. No MPI_Init.
#pragma once

#include "comm/loopback.h"
#include "comm/transport.h"

#include <chrono>
#include <memory>
#include <vector>

namespace signvote::test {

struct LoopbackCluster {
  // wait_limit: how long a wait may block before the test fails (a deadlock).
  LoopbackCluster(int servers, int workers, std::chrono::milliseconds wait_limit = std::chrono::seconds(5))
      : S(servers), W(workers), hub(wait_limit) {
    for (int r = 0; r < S + W; ++r) nets.push_back(std::make_unique<comm::LoopbackTransport>(hub, r));
  }
  // What rank r's ShardServer / ServerExchange needs: every worker votes.
  comm::Peers peers(int r) const {
    comm::Peers p{r, S, {}};
    for (int k = 0; k < W; ++k) p.voters.push_back(S + k);
    return p;
  }
  comm::LoopbackTransport& net(int r) { return *nets[static_cast<size_t>(r)]; }
  int worker_rank(int k) const { return S + k; }

  int S, W;
  comm::LoopbackHub hub;
  std::vector<std::unique_ptr<comm::LoopbackTransport>> nets;  // by world rank
};

}  // namespace signvote::test
