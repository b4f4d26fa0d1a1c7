// signvote-bench comm: one majority-vote round against one fp32 all-reduce
// round, as a worker sees them, under mpirun (ranks 0..S-1 = the server
// shards, the rest workers):
//   scripts/mpirun.sh -np 8 build/signvote-bench comm --dim 11173962 --json
//   scripts/netcluster.sh run -np 14 --map-by node build/signvote-bench comm --servers 7
//       (7 nodes, each with one server shard and one worker: colocated)
// It also prints, by the link model of docs/scaling.md, the bytes the
// busiest link carries in one direction over the round's sequential phases
// (votes in, then results out), for: servers on nodes of their own, one
// shard colocated with one worker on each node (S = W), and a ring
// all-reduce; round time ~ these bytes / link rate.
// vote_round_ms     = momentum+pack, send, server tally, reply, fused apply
// allreduce_round_ms = MPI_Allreduce of d floats over the workers + SGD apply
// Each is the median over --reps rounds of the slowest worker's time.
#include "bench_registry.h"
#include "comm/mpi_check.h"
#include "comm/topology.h"
#include "signvote/sign_kernels.h"
#include "server/shard_server.h"
#include "worker/alltoall_vote.h"
#include "worker/server_exchange.h"

#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

namespace signvote::bench {
namespace {

struct CommArgs {
  size_t dim = 11173962;
  int servers = 1;
  std::string transport = "server";  // server | alltoall (aggregation.transport)
  int reps = 20;
  bool json = false;
};

double now_ms() { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Median over reps of the max over ranks of each rep's time.
double median_of_max(std::vector<double> t) {
  std::vector<double> mx(t.size());
  SV_MPI_CHECK(MPI_Allreduce(t.data(), mx.data(), static_cast<int>(t.size()), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
  std::nth_element(mx.begin(), mx.begin() + mx.size() / 2, mx.end());
  return mx[mx.size() / 2];
}

// One round of the product's SignRound over the server shards or the all-to-all (worker/rounds.cpp)
// on random gradients: Signum pack into `slots`, `exchange`, fused apply.
template <class Exchange>
std::vector<double> timed_rounds(const CommArgs& a, worker::SignSlots& slots, Exchange exchange, AlignedBuffer<float>& x,
                                 AlignedBuffer<float>& g, AlignedBuffer<float>& m) {
  const auto& ops = kernels::best_ops();
  std::vector<double> t(a.reps, 0.0);
  for (int r = 0; r < a.reps; ++r) {
    SV_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    const double t0 = now_ms();
    for (size_t s = 0; s < slots.parts(); ++s) {
      const auto& sh = slots.part(s);
      ops.momentum_pack(m.data() + sh.offset, g.data() + sh.offset, sh.length, 0.9f, slots.out_bits(s));
    }
    exchange(static_cast<uint64_t>(r + 1));
    for (size_t s = 0; s < slots.parts(); ++s) {
      const auto& sh = slots.part(s);
      ops.apply(x.data() + sh.offset, sh.length, slots.result_bits(s), 1e-4f, 0.f);
    }
    t[r] = now_ms() - t0;
  }
  return t;
}

// server: the votes go to the S shards. alltoall: a header-only REPORT to
// server 0, then the workers' all-to-all + all-gather (worker/alltoall_vote.h).
std::vector<double> vote_rounds(const comm::Topology& topo, const CommArgs& a, AlignedBuffer<float>& x,
                                AlignedBuffer<float>& g, AlignedBuffer<float>& m) {
  const bool alltoall = a.transport == "alltoall";
  if (topo.is_server()) {
    server::ShardServer srv(topo, alltoall ? 0 : a.dim, kernels::best_ops());
    for (int r = 0; r < a.reps; ++r) {
      SV_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
      srv.round(r + 1);
    }
    return std::vector<double>(a.reps, 0.0);
  }
  if (!alltoall) {
    worker::ServerExchange client(topo, a.dim);
    return timed_rounds(a, client, [&](uint64_t step) { client.round_trip(step, {}); }, x, g, m);
  }
  worker::ServerExchange reports(topo, 0);
  worker::AlltoallVote vote(topo, a.dim, kernels::best_ops(), reports);
  return timed_rounds(a, vote, [&](uint64_t step) {
    vote.begin(step);
    vote.post_rest(step, {});
    vote.wait_all();
  }, x, g, m);
}

std::vector<double> allreduce_rounds(const comm::Topology& topo, const CommArgs& a, AlignedBuffer<float>& x,
                                     AlignedBuffer<float>& g, AlignedBuffer<float>& m) {
  std::vector<double> t(a.reps, 0.0);
  const float inv = 1.f / static_cast<float>(topo.workers());
  for (int r = 0; r < a.reps; ++r) {
    SV_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (topo.is_server()) continue;
    const double t0 = now_ms();
    SV_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, g.data(), static_cast<int>(a.dim), MPI_FLOAT, MPI_SUM, topo.workers_comm()));
    for (size_t i = 0; i < a.dim; ++i) {  // SGD with momentum on the average
      m[i] = 0.9f * m[i] + g[i] * inv;
      x[i] -= 1e-4f * m[i];
    }
    t[r] = now_ms() - t0;
  }
  return t;
}

void run_comm(const CommArgs& a) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) MPI_Init(nullptr, nullptr);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int size = 0;
  SV_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
  if (size < 2) throw std::runtime_error("bench comm: run under mpirun with at least 2 ranks (1 server + workers)");
  {
    if (a.servers >= size) throw std::runtime_error("bench comm: --servers must leave at least one worker rank");
    if (a.transport == "alltoall" && a.servers != 1) throw std::runtime_error("bench comm: --transport alltoall needs --servers 1");
    comm::Topology topo(a.servers, size - a.servers);
    AlignedBuffer<float> x(a.dim), g(a.dim), m(a.dim);
    std::mt19937 rng(topo.world_rank());
    std::normal_distribution<float> nd;
    for (size_t i = 0; i < a.dim; ++i) g[i] = nd(rng);
    const double vote = median_of_max(vote_rounds(topo, a, x, g, m));
    const double allreduce = median_of_max(allreduce_rounds(topo, a, x, g, m));
    if (topo.world_rank() == 0) {
      const double W = topo.workers(), S = topo.servers(), packed = 4.0 * double(comm::payload_words(a.dim));
      // Servers apart: a shard's link takes W votes of d/(8S) in, then sends
      // W results of d/(8S) out: 2 W d/(8S) through it, one phase after the other.
      const double server_link = 2.0 * W * packed / S;
      // Colocated (S = W): in each phase a node's link carries (W-1)/W d/8
      // each way (the shards of the other servers / the other workers' votes).
      const double colocated_link = 2.0 * (W - 1) / W * packed;
      // Ring: reduce-scatter then all-gather, (W-1)/W 4d each way in each.
      const double ring_link = 2.0 * (W - 1) / W * 4.0 * double(a.dim);
      const auto line = fmt::format(
          "{{\"dim\": {}, \"workers\": {}, \"servers\": {}, \"transport\": \"{}\", \"reps\": {}, \"vote_round_ms\": {:.3f}, "
          "\"allreduce_round_ms\": {:.3f}, \"ratio_allreduce_over_vote\": {:.2f}, "
          "\"vote_bytes_per_worker_each_way\": {:.0f}, \"allreduce_bytes_per_worker\": {}, "
          "\"critical_link_bytes\": {{\"server_apart\": {:.0f}, \"colocated\": {:.0f}, \"ring_allreduce\": {:.0f}}}}}",
          a.dim, topo.workers(), topo.servers(), a.transport, a.reps, vote, allreduce, allreduce / vote, packed + 128 * S, 4 * a.dim,
          server_link, colocated_link, ring_link);
      fmt::print("{}\n", line);
    }
  }
  MPI_Finalize();
}

void add_comm_bench(CLI::App& app) {
  static CommArgs args;
  auto* sub = app.add_subcommand("comm", "one vote round vs one fp32 all-reduce round (run under mpirun)");
  sub->add_option("--dim", args.dim, "parameters (default: CIFAR ResNet-18, 11,173,962), 1..2147483647")
      ->check(CLI::Range(size_t{1}, size_t{2147483647}));
  sub->add_option("--reps", args.reps, "rounds of each kind, 1..100000")->check(CLI::Range(1, 100000));
  sub->add_option("--servers", args.servers, "server shards: ranks 0..S-1, 1..1023")->check(CLI::Range(1, 1023));
  sub->add_option("--transport", args.transport, "server (votes to the S shards) | alltoall (workers tally chunks; needs --servers 1)")
      ->check(CLI::IsMember({"server", "alltoall"}));
  sub->add_flag("--json", args.json, "print JSON (the only output format)");
  sub->callback([] { run_comm(args); });
}

RegisterBench reg(&add_comm_bench);

}  // namespace
}  // namespace signvote::bench
