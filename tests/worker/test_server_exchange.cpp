// The worker's round (ServerExchange) in one process: S servers (ShardServer /
// BucketRounds) and W workers on one comm::LoopbackHub, driven round by
// round (every worker posts, every server serves, every worker waits), and
// checked against the closed forms the MPI tests use (tests/support).
#include <catch2/catch.hpp>

#include "server/buckets.h"
#include "server/shard_server.h"
#include "support/closed_forms.h"
#include "support/loopback_cluster.h"
#include "worker/server_exchange.h"

#include <memory>
#include <set>
#include <string>

using namespace signvote;
using protocol::ErrorCode;

namespace {

// The servers and the workers' clients of one loopback cluster.
struct Round {
  Round(int S, int W, size_t d, size_t bucket_coords = 0) : c(S, W) {
    const auto& ops = kernels::best_ops();
    for (int s = 0; s < S; ++s)
      servers.push_back(std::make_unique<server::BucketRounds>(
          c.peers(s), c.net(s), d, bucket_coords, comm::RoundFormat::sign_bits(),
          [&ops](size_t) { return server::majority_vote(ops); }, server::DeadlinePolicy{}));
    for (int k = 0; k < W; ++k)
      clients.push_back(std::make_unique<worker::ServerExchange>(c.peers(c.worker_rank(k)), c.net(c.worker_rank(k)), d,
                                                             comm::RoundFormat::sign_bits(), bucket_coords));
  }
  void serve(uint64_t t) {
    for (auto& s : servers) s->round(t);
  }
  test::LoopbackCluster c;
  std::vector<std::unique_ptr<server::BucketRounds>> servers;
  std::vector<std::unique_ptr<worker::ServerExchange>> clients;
};

// mpi_vote_test closed_form S D ROUNDS [BUCKET_COORDS], in one process.
void closed_form(int S, int W, size_t d, uint64_t rounds, size_t bucket_coords = 0) {
  Round r(S, W, d, bucket_coords);
  if (bucket_coords) CHECK(r.servers[0]->buckets() > 1);
  std::vector<float> x(d);
  for (uint64_t t = 1; t <= rounds; ++t) {
    for (int k = 0; k < W; ++k) {
      test::estimate(x, k, t, W);
      test::post_votes(*r.clients[size_t(k)], x, t);
    }
    r.serve(t);
    for (int k = 0; k < W; ++k) {
      r.clients[size_t(k)]->wait_all();
      CHECK(test::wrong_bits(*r.clients[size_t(k)], [&](size_t i) { return test::expected_majority(i, t, W); }) == 0);
    }
  }
}

}  // namespace

TEST_CASE("closed-form votes, 1 server + 5 workers", "[worker][loopback]") { closed_form(1, 5, 10007, 6); }
TEST_CASE("closed-form votes, 1 server + 6 workers (ties)", "[worker][loopback]") { closed_form(1, 6, 4099, 6); }
TEST_CASE("closed-form votes, 2 servers + 6 workers", "[worker][loopback]") { closed_form(2, 6, 20000, 4); }
TEST_CASE("closed-form votes, 2 servers x 5 buckets + 5 workers", "[worker][loopback]") {
  closed_form(2, 5, 20000, 4, 2048);
}

TEST_CASE("closed-form Lion round", "[worker][loopback]") {
  for (auto [W, d] : {std::pair{5, size_t{10007}}, std::pair{4, size_t{4099}}}) {  // 4: ties
    DYNAMIC_SECTION(W << " workers") {
      Round r(1, W, d);
      const test::LionCase c;
      std::vector<std::vector<float>> m(static_cast<size_t>(W)), g(static_cast<size_t>(W));
      for (int k = 0; k < W; ++k) {
        test::lion_inputs(k, d, m[size_t(k)], g[size_t(k)]);
        auto& client = *r.clients[size_t(k)];
        CHECK(kernels::best_ops().lion_pack(m[size_t(k)].data(), g[size_t(k)].data(), d, c.b1, c.b2,
                                            client.out_bits(0)) == 0);
        client.begin(1);
        client.post_rest(1, {});
      }
      r.serve(1);
      for (int k = 0; k < W; ++k) {
        auto& client = *r.clients[size_t(k)];
        client.wait();
        std::vector<float> x(d, 1.0f);
        kernels::best_ops().apply(x.data(), d, client.result_bits(0), c.lr, c.wd);
        CHECK(test::lion_wrong(c, k, W, m[size_t(k)], x) == 0);
      }
    }
  }
}

TEST_CASE("a misbehaving worker stops every rank with the error naming it", "[worker][loopback]") {
  for (const std::string& name : test::misbehaviours()) {
    DYNAMIC_SECTION(name) {
      const test::Misbehaviour how{name};
      const int W = 3;  // worker ranks 1..3; rank 2 misbehaves
      const size_t d = 1000;
      test::LoopbackCluster c(1, W);
      server::ShardServer srv(c.peers(0), c.net(0), d, comm::RoundFormat::sign_bits(),
                             server::majority_vote(kernels::best_ops()));
      std::vector<std::unique_ptr<worker::ServerExchange>> clients;
      std::vector<std::vector<float>> x;
      for (int k = 0; k < W; ++k) {
        const bool me = c.worker_rank(k) == how.bad;
        clients.push_back(std::make_unique<worker::ServerExchange>(c.peers(c.worker_rank(k)), c.net(c.worker_rank(k)),
                                                               how.dim_of(me, d)));
        x.emplace_back(clients.back()->part(0).length, 1.0f);
      }
      std::vector<std::string> errors(size_t(W) + 1);  // by world rank
      for (uint64_t t = 1; t <= 2 && errors[0].empty(); ++t) {
        for (int k = 0; k < W; ++k)
          test::post_misbehaving<worker::WorkerReport>(*clients[size_t(k)], how, c.worker_rank(k) == how.bad, t,
                                                       x[size_t(k)]);
        try {
          srv.round(t);
        } catch (const RoundError& e) {
          errors[0] = e.what();
        }
        for (int k = 0; k < W; ++k) {
          try {
            clients[size_t(k)]->wait();
          } catch (const RoundError& e) {
            errors[size_t(k) + 1] = e.what();
            CHECK(e.offender == how.bad);
            CHECK(e.code != ErrorCode::ok);
          }
        }
      }
      for (const std::string& error : errors) {
        INFO(error);
        for (const std::string& want : how.expected_error()) CHECK(error.find(want) != std::string::npos);
      }
    }
  }
}

TEST_CASE("wait_next hands back each part once, as its result arrives", "[worker][loopback]") {
  const size_t d = 20000;
  Round r(2, 3, d, 2048);
  auto& client = *r.clients[0];
  REQUIRE(client.parts() > 2);
  std::vector<float> x(d);
  for (int k = 0; k < 3; ++k) {
    test::estimate(x, k, 2, 3);
    test::post_votes(*r.clients[size_t(k)], x, 2);
  }
  r.serve(2);
  std::set<size_t> seen;
  uint64_t sent = 0, recv = 0;
  for (size_t p = client.wait_next(); p != client.parts(); p = client.wait_next()) {
    CHECK(seen.insert(p).second);
    sent += protocol::kHeaderBytes + 4 * comm::payload_words(client.part(p).length);
    recv += protocol::kHeaderBytes + 4 * comm::payload_words(client.part(p).length);
  }
  CHECK(seen.size() == client.parts());
  CHECK(client.bytes_sent() == sent);
  CHECK(client.bytes_recv() == recv);
  CHECK(test::wrong_bits(client, [](size_t i) { return test::expected_majority(i, 2, 3); }) == 0);
  for (int k = 1; k < 3; ++k) r.clients[size_t(k)]->wait_all();
}

TEST_CASE("a RESULT longer than the receive names the server", "[worker][loopback]") {
  test::LoopbackCluster c(1, 1);
  worker::ServerExchange client(c.peers(1), c.net(1), 1000);
  client.begin(1);
  client.post_rest(1, {});
  comm::Message vote(comm::payload_words(1000) + 16), big(comm::payload_words(1000) + 32);
  comm::Request rq = comm::kNoRequest, sq = comm::kNoRequest;
  c.net(0).irecv(vote.data(), vote.bytes(), 1, protocol::kTagVote, &rq);
  c.net(0).wait(&rq);
  c.net(0).isend(big.data(), big.bytes(), 1, protocol::kTagResult, &sq);
  CHECK_THROWS_WITH(client.wait(), Catch::Contains("RESULT from server rank 0 could not be received"));
}

TEST_CASE("every worker leaving is a clean end for leaving clients only", "[worker][loopback]") {
  for (bool leaving : {true, false}) {
    test::LoopbackCluster c(1, 2);
    server::ShardServer srv(c.peers(0), c.net(0), 1000, comm::RoundFormat::sign_bits(),
                           server::majority_vote(kernels::best_ops()));
    std::vector<std::unique_ptr<worker::ServerExchange>> clients;
    for (int k = 0; k < 2; ++k) {
      clients.push_back(std::make_unique<worker::ServerExchange>(c.peers(k + 1), c.net(k + 1), 1000));
      if (leaving) clients.back()->set_leaving();
      worker::WorkerReport rep;
      rep.status = ErrorCode::worker_left;
      clients.back()->begin(4);
      clients.back()->post_rest(4, rep);
    }
    CHECK(srv.round(4).left);
    for (auto& cl : clients) {
      if (leaving) {
        CHECK_NOTHROW(cl->wait());
        CHECK(cl->everyone_left());
      } else {
        CHECK_THROWS_WITH(cl->wait(), Catch::Contains("every worker left the run"));
      }
    }
  }
}
