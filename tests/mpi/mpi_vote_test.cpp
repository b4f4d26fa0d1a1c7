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
#include "server/vote_server.h"
#include "util/rng.h"
#include "worker/alltoall_vote.h"
#include "worker/node_exchange.h"
#include "worker/vote_client.h"

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

using namespace signvote;

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

uint64_t splitmix(uint64_t z) { return util::mix64(z + util::kGolden); }

// Worker k's vote (+1 = true) on coordinate i in round t. Even rounds use a
// pseudo-random pattern; odd rounds give coordinate i exactly i % (W+1)
// positive votes (workers 0..c-1), so every count 0..W, ties included, occurs.
bool vote_of(int k, size_t i, uint64_t t, int W) {
  if (t % 2) return static_cast<size_t>(k) < i % static_cast<size_t>(W + 1);
  return splitmix((t << 48) ^ (uint64_t(k) << 32) ^ i) & 1;
}

// Closed form of the majority: positive iff #positive >= ceil(W/2).
bool expected_majority(size_t i, uint64_t t, int W) {
  int ones = 0;
  for (int k = 0; k < W; ++k) ones += vote_of(k, i, t, W);
  return 2 * ones >= W;
}

// A server rank's part of both closed-form tests: `rounds` plain rounds.
void serve(const comm::Topology& topo, size_t dim, uint64_t rounds) {
  server::VoteServer srv(topo, dim, kernels::best_ops());
  for (uint64_t t = 1; t <= rounds; ++t) srv.round(t);
}

// Worker k's estimate in round t: +-0.5 by vote_of.
void estimate(std::vector<float>& x, int k, uint64_t t, int W) {
  for (size_t i = 0; i < x.size(); ++i) x[i] = vote_of(k, i, t, W) ? 0.5f : -0.5f;
}

// Packs sign(x) per part (when this rank sends), votes in round t through
// any exchange and waits for the results.
void vote(worker::Exchange& ex, const std::vector<float>& x, uint64_t t) {
  for (size_t s = 0; s < ex.parts() && ex.sends(); ++s) {
    const auto& sh = ex.part(s);
    kernels::best_ops().pack(x.data() + sh.offset, sh.length, ex.out_bits(s));
  }
  ex.begin(t);
  ex.post_rest(t, {});
  ex.wait_all();
}

// Coordinates whose voted bit differs from expected(i), over every shard.
template <class Expected>
size_t wrong_bits(const worker::SignSlots& client, const Expected& expected) {
  size_t wrong = 0;
  for (size_t s = 0; s < client.parts(); ++s) {
    const auto& sh = client.part(s);
    for (size_t j = 0; j < sh.length; ++j) {
      const bool got = (client.result_bits(s)[kernels::word_of(j)] >> kernels::bit_of(j)) & 1u;
      wrong += got != expected(sh.offset + j);
    }
  }
  return wrong;
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
  worker::VoteClient client(topo, dim, comm::RoundFormat::sign_bits(), bucket_coords);
  const int k = topo.worker_index();
  std::vector<float> x(dim);
  for (uint64_t t = 1; t <= rounds; ++t) {
    estimate(x, k, t, W);
    vote(client, x, t);
    EXPECT(wrong_bits(client, [&](size_t i) { return expected_majority(i, t, W); }) == 0);
  }
}

// The hierarchical vote: workers in nodes of `rpn` consecutive ranks sum
// their +-0.5 estimates in the node (never 0: rpn is odd), the leader packs
// the sign of the sum and votes, and NodeExchange shares the RESULT. Closed form: node n
// votes +1 iff most of its workers do; the result is +1 iff at least half
// the nodes vote +1 (ties -> +1). Every worker checks every coordinate.
bool node_vote(int n, int rpn, size_t i, uint64_t t, int W) {
  int ones = 0, members = 0;
  for (int k = n * rpn; k < std::min(W, (n + 1) * rpn); ++k) ones += vote_of(k, i, t, W), ++members;
  return 2 * ones > members;
}

void hierarchy(int servers, size_t dim, uint64_t rounds, int rpn) {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  comm::Topology topo(servers, size - servers, comm::NodeLayout{rpn, true});
  const int W = topo.workers(), nodes = (W + rpn - 1) / rpn;
  EXPECT(topo.voters() == nodes);
  if (topo.is_server()) return serve(topo, dim, rounds);
  worker::VoteClient client(topo, dim);
  worker::NodeExchange node(topo, client);
  EXPECT(node.sends() == topo.is_voter());
  const int k = topo.worker_index();
  std::vector<float> x(dim);
  for (uint64_t t = 1; t <= rounds; ++t) {
    estimate(x, k, t, W);
    SV_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, x.data(), static_cast<int>(dim), MPI_FLOAT, MPI_SUM, topo.node_comm()));
    vote(node, x, t);
    EXPECT(wrong_bits(node, [&](size_t i) {
             int plus = 0;
             for (int n = 0; n < nodes; ++n) plus += node_vote(n, rpn, i, t, W);
             return 2 * plus >= nodes;
           }) == 0);
  }
}

// One round of Lion with majority vote. Worker k starts from m = u(k, i) and
// gets g = v(k, i) (deterministic values in [-1, 1], zeros included); it
// votes sign(b1 m + (1-b1) g) and keeps m = b2 m + (1-b2) g; everyone
// applies x -= lr (s + wd x) from x = 1. Closed forms (the one float
// formula of sign_layout.h): each worker's m, the majority of the W
// directions counted here for every coordinate, and x.
float lion_value(int k, size_t i, uint64_t salt) {
  return static_cast<float>(static_cast<int>(splitmix((salt << 40) ^ (uint64_t(k) << 32) ^ i) % 2001) - 1000) / 1000.f;
}

void lion(size_t dim) {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  comm::Topology topo(1, size - 1);
  const int W = topo.workers();
  if (topo.is_server()) return serve(topo, dim, 1);
  const float b1 = 0.9f, b2 = 0.99f, lr = 0.01f, wd = 0.1f;
  const int k = topo.worker_index();
  std::vector<float> m(dim), g(dim), x(dim, 1.0f);
  for (size_t i = 0; i < dim; ++i) m[i] = lion_value(k, i, 1), g[i] = lion_value(k, i, 2);
  worker::VoteClient client(topo, dim);
  EXPECT(kernels::best_ops().lion_pack(m.data(), g.data(), dim, b1, b2, client.out_bits(0)) == 0);
  client.round_trip(1, {});
  kernels::best_ops().apply(x.data(), dim, client.result_bits(0), lr, wd);
  size_t wrong_m = 0, wrong_x = 0;
  for (size_t i = 0; i < dim; ++i) {
    wrong_m += m[i] != kernels::momentum_update(lion_value(k, i, 1), lion_value(k, i, 2), b2, 1.f - b2);
    int plus = 0;
    for (int j = 0; j < W; ++j) plus += kernels::momentum_update(lion_value(j, i, 1), lion_value(j, i, 2), b1, 1.f - b1) >= 0.f;
    const float s = 2 * plus >= W ? 1.f : -1.f;
    wrong_x += x[i] != kernels::apply_update(1.0f, s, lr, wd);
  }
  EXPECT(wrong_m == 0);
  EXPECT(wrong_x == 0);
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
      server::VoteServer srv(topo, 0, kernels::best_ops());
      for (uint64_t t = 1; t <= rounds; ++t) srv.round(t);
    } else {
      worker::VoteClient reports(topo, 0);
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

// Round 1 is fine; in round 2 worker rank `bad` misbehaves as `scenario`
// says. Every rank must stop with the error that names `bad`.
void misbehave(const std::string& scenario) {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  comm::Topology topo(1, size - 1);
  const int bad = 2;
  const size_t dim = 1000;
  std::string error;
  try {
    if (topo.is_server()) {
      server::VoteServer srv(topo, dim, kernels::best_ops());
      srv.round(1);
      srv.round(2);
    } else {
      const bool me = topo.world_rank() == bad;
      // dim + 10 pads to the same number of words: only the header disagrees.
      worker::VoteClient client(topo, scenario == "mismatch_length" && me ? dim + 10 : dim);
      std::vector<float> x(client.part(0).length, 1.0f);
      for (uint64_t t = 1; t <= 2; ++t) {
        worker::WorkerReport rep;
        rep.weight_hash = scenario == "diverged_hash" ? (me && t == 2 ? 0xBAD : 0x600D) : 0;
        if (scenario == "nan" && me && t == 2) x[17] = std::numeric_limits<float>::quiet_NaN();
        const size_t nan = kernels::best_ops().pack(x.data(), x.size(), client.out_bits(0));
        if (nan) rep.status = protocol::ErrorCode::nan_gradient, rep.err_got = nan;
        client.round_trip(scenario == "mismatch_step" && me && t == 2 ? 3 : t, rep);
      }
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  std::printf("rank %d: %s\n", topo.world_rank(), error.c_str());
  EXPECT(error.find("rank " + std::to_string(bad) + " ") != std::string::npos);
  // A length mismatch shows in round 1, the others in round 2.
  EXPECT(error.find(scenario == "mismatch_length" ? "step 1" : "step 2") != std::string::npos);
  if (scenario == "mismatch_step") EXPECT(error.find("sent step 3, expected step 2") != std::string::npos);
  if (scenario == "mismatch_length") EXPECT(error.find("length_mismatch") != std::string::npos);
  if (scenario == "diverged_hash") EXPECT(error.find("weights diverged") != std::string::npos);
  if (scenario == "nan") EXPECT(error.find("1 NaN") != std::string::npos);
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
