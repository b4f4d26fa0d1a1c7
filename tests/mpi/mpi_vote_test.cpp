// Multi-rank protocol tests, run by ctest under mpiexec (see CMakeLists.txt).
//   mpi_vote_test closed_form SERVERS DIM ROUNDS [BUCKET_COORDS]
//                 votes vs closed forms, exact (buckets: each shard's
//                 buckets are messages of their own, served last first)
//   mpi_vote_test hierarchy SERVERS DIM ROUNDS RANKS_PER_NODE
//                 node averages, one vote per node, shared results: exact
//   mpi_vote_test alltoall DIM ROUNDS   the server-less vote (1 server for
//                 the REPORTs, the workers tally chunks): exact
//   mpi_vote_test lion DIM   one Lion round (Distributed Lion): the workers'
//                 new momenta, the majority and every x, exactly
//   mpi_vote_test mismatch_step | mismatch_length | diverged_hash | nan
//   mpi_vote_test alltoall_length   a worker's all-to-all chunks disagree
// Every rank checks what it saw; the exit code is 0 only if every rank passed.
#include "comm/mpi_check.h"
#include "comm/topology.h"
#include "signvote/sign_kernels.h"
#include "signvote/sign_layout.h"
#include "server/buckets.h"
#include "server/shard_server.h"
#include "support/closed_forms.h"
#include "worker/alltoall_vote.h"
#include "worker/node_exchange.h"
#include "worker/server_exchange.h"

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

using namespace signvote;
using test::estimate;
using test::expected_majority;
using test::vote;
using test::wrong_bits;

namespace {

int g_failures = 0;
#define EXPECT(cond)                                                                           \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      ++g_failures;                                                                            \
      std::fprintf(stderr, "%s:%d: rank %d: EXPECT(%s) failed\n", __FILE__, __LINE__, rank(), #cond); \
    }                                                                                          \
  } while (0)

int rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

// A server rank's part of the closed-form tests: `rounds` plain rounds.
void serve(const comm::Topology& topo, size_t dim, uint64_t rounds) {
  server::ShardServer srv(topo, dim, kernels::best_ops());
  for (uint64_t t = 1; t <= rounds; ++t) srv.round(t);
}

void closed_form(int servers, size_t dim, uint64_t rounds, size_t bucket_coords) {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  comm::Topology topo(servers, size - servers);
  const int W = topo.workers();
  if (topo.is_server()) {
    const auto& ops = kernels::best_ops();
    server::BucketRounds srv(topo, dim, bucket_coords, comm::RoundFormat::sign_bits(),
                             [&](size_t) { return server::majority_vote(ops); }, {});
    if (bucket_coords) EXPECT(srv.buckets() > 1);
    for (uint64_t t = 1; t <= rounds; ++t) srv.round(t);
    return;
  }
  worker::ServerExchange client(topo, dim, comm::RoundFormat::sign_bits(), bucket_coords);
  const int k = topo.worker_index();
  std::vector<float> x(dim);
  for (uint64_t t = 1; t <= rounds; ++t) {
    estimate(x, k, t, W);
    vote(client, x, t);
    EXPECT(wrong_bits(client, [&](size_t i) { return expected_majority(i, t, W); }) == 0);
  }
}

// The hierarchical vote: workers in nodes of `rpn` consecutive ranks sum
// their +-0.5 estimates in the node, the leader packs the sign of the sum
// and votes, and NodeExchange shares the RESULT (closed form:
// test::expected_node_majority). Every worker checks every coordinate.
void hierarchy(int servers, size_t dim, uint64_t rounds, int rpn) {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  comm::Topology topo(servers, size - servers, comm::NodeLayout{rpn, true});
  const int W = topo.workers(), nodes = (W + rpn - 1) / rpn;
  EXPECT(topo.voters() == nodes);
  if (topo.is_server()) return serve(topo, dim, rounds);
  worker::ServerExchange client(topo, dim);
  worker::NodeExchange node(topo, client);
  EXPECT(node.sends() == topo.is_voter());
  const int k = topo.worker_index();
  std::vector<float> x(dim);
  for (uint64_t t = 1; t <= rounds; ++t) {
    estimate(x, k, t, W);
    SV_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, x.data(), static_cast<int>(dim), MPI_FLOAT, MPI_SUM, topo.node_comm()));
    vote(node, x, t);
    EXPECT(wrong_bits(node, [&](size_t i) { return test::expected_node_majority(i, t, W, rpn); }) == 0);
  }
}

// One round of Lion with majority vote: the closed forms of test::LionCase.
void lion(size_t dim) {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  comm::Topology topo(1, size - 1);
  const int W = topo.workers();
  if (topo.is_server()) return serve(topo, dim, 1);
  const test::LionCase c;
  const int k = topo.worker_index();
  std::vector<float> m, g, x(dim, 1.0f);
  test::lion_inputs(k, dim, m, g);
  worker::ServerExchange client(topo, dim);
  EXPECT(kernels::best_ops().lion_pack(m.data(), g.data(), dim, c.b1, c.b2, client.out_bits(0)) == 0);
  client.round_trip(1, {});
  kernels::best_ops().apply(x.data(), dim, client.result_bits(0), c.lr, c.wd);
  EXPECT(test::lion_wrong(c, k, W, m, x) == 0);
}

// aggregation.transport: alltoall. Every round: the all-to-all of sign
// chunks, each worker's tally of its chunk and the all-gather, then a
// header-only REPORT with the verdict to the server. With bad_length,
// worker rank 2 believes d is 10 larger (same words): the others' headers
// disagree with it on its chunk, and every rank, the server included, must
// stop in round 1 naming rank 2.
void alltoall(size_t dim, uint64_t rounds, bool bad_length) {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  comm::Topology topo(1, size - 1);
  const int W = topo.workers();
  std::string error;
  try {
    if (topo.is_server()) {
      server::ShardServer srv(topo, 0, kernels::best_ops());
      for (uint64_t t = 1; t <= rounds; ++t) srv.round(t);
    } else {
      worker::ServerExchange reports(topo, 0);
      worker::AlltoallVote chunks(topo, bad_length && topo.world_rank() == 2 ? dim + 10 : dim, kernels::best_ops(),
                                  reports);
      EXPECT(chunks.parts() == static_cast<size_t>(W));
      std::vector<float> x(dim);
      for (uint64_t t = 1; t <= rounds; ++t) {
        estimate(x, topo.worker_index(), t, W);
        vote(chunks, x, t);
        EXPECT(wrong_bits(chunks, [&](size_t i) { return expected_majority(i, t, W); }) == 0);
      }
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!bad_length) {
    EXPECT(error.empty());
    return;
  }
  std::printf("rank %d: %s\n", topo.world_rank(), error.c_str());
  EXPECT(error.find("rank 2 sent length/offset 498, expected 488") != std::string::npos);
  EXPECT(error.find("step 1") != std::string::npos);
}

// test::Misbehaviour: every rank must stop with the error that names `bad`.
void misbehave(const std::string& scenario) {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  comm::Topology topo(1, size - 1);
  const test::Misbehaviour how{scenario};
  const size_t dim = 1000;
  std::string error;
  try {
    if (topo.is_server()) {
      server::ShardServer srv(topo, dim, kernels::best_ops());
      srv.round(1);
      srv.round(2);
    } else {
      const bool me = topo.world_rank() == how.bad;
      worker::ServerExchange client(topo, how.dim_of(me, dim));
      std::vector<float> x(client.part(0).length, 1.0f);
      for (uint64_t t = 1; t <= 2; ++t) {
        test::post_misbehaving<worker::WorkerReport>(client, how, me, t, x);
        client.wait();
      }
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  std::printf("rank %d: %s\n", topo.world_rank(), error.c_str());
  for (const std::string& want : how.expected_error()) EXPECT(error.find(want) != std::string::npos);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  const std::string scenario = argc > 1 ? argv[1] : "";
  try {
    if (scenario == "closed_form" && (argc == 5 || argc == 6))
      closed_form(std::stoi(argv[2]), std::stoul(argv[3]), std::stoul(argv[4]), argc == 6 ? std::stoul(argv[5]) : 0);
    else if (scenario == "hierarchy" && argc == 6)
      hierarchy(std::stoi(argv[2]), std::stoul(argv[3]), std::stoul(argv[4]), std::stoi(argv[5]));
    else if (scenario == "lion" && argc == 3)
      lion(std::stoul(argv[2]));
    else if (scenario == "alltoall" && argc == 4)
      alltoall(std::stoul(argv[2]), std::stoul(argv[3]), false);
    else if (scenario == "alltoall_length")
      alltoall(1000, 3, true);
    else if (scenario.rfind("mismatch_", 0) == 0 || scenario == "diverged_hash" || scenario == "nan")
      misbehave(scenario);
    else
      EXPECT(!"usage: mpi_vote_test closed_form SERVERS DIM ROUNDS | mismatch_step | ...");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: unexpected error: %s\n", rank(), e.what());
    ++g_failures;
  }
  int total = 0;
  MPI_Allreduce(&g_failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank() == 0) std::printf("%s: %s (%d failed checks)\n", scenario.c_str(), total ? "FAILED" : "ok", total);
  MPI_Finalize();
  return total ? 1 : 0;
}
