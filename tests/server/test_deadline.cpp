// ShardServer's deadline mode (cluster.round_deadline_ms, server/deadline.cpp)
// in one process: a late worker is one whose messages the loopback hub holds
// back (LoopbackHub::hold / deliver). Late votes abstain, stale ones are
// discarded, results queue for the late worker in order, and a worker late
// max_missed_rounds rounds in a row stops the run naming it. Deadlines are
// 20 ms: each round with a late worker waits that long.
#include <catch2/catch.hpp>

#include "server/raw_workers.h"

#include <numeric>

using namespace signvote;
using protocol::ErrorCode;
using protocol::MsgHeader;

namespace {

constexpr size_t kDim = 4099;
const server::DeadlinePolicy kPolicy{20, 3};  // 20 ms, stop after 3 missed rounds

std::vector<int> all_but(int W, int late) {
  std::vector<int> v;
  for (int k = 0; k < W; ++k)
    if (k != late) v.push_back(k);
  return v;
}

}  // namespace

TEST_CASE("deadline: a late vote abstains, its stale vote is discarded, its results queue", "[server][deadline]") {
  const int W = 5, late = 4;  // worker rank 5
  test::RawWorkers raw(W);
  auto srv = raw.server(kDim, kPolicy);
  const auto d = test::whole(kDim);
  raw.c.hub.hold(raw.c.worker_rank(late));
  for (uint64_t t = 1; t <= 2; ++t) {  // the late worker misses rounds 1 and 2
    raw.post_all(t, d);
    const server::RoundSummary s = srv.round(t);
    CHECK(s.late == 1);
    for (int k : all_but(W, late))  // threshold ceil(4/2) over the present votes
      CHECK(raw.wrong(k, t, d, [&](size_t i) { return test::majority_of(all_but(W, late), i, t, W); }) == 0);
  }
  raw.c.hub.deliver(raw.c.worker_rank(late));  // its votes of steps 1 and 2 arrive: stale
  // It catches up: RESULT(1) and RESULT(2), in order, what the others got.
  for (uint64_t t = 1; t <= 2; ++t) {
    CHECK(raw.result(late, t, d).header().step == t);
    CHECK(raw.wrong(late, t, d, [&](size_t i) { return test::majority_of(all_but(W, late), i, t, W); }) == 0);
  }
  // Round 3: the stale votes are discarded, never counted; all 5 on time.
  raw.post_all(3, d);
  CHECK(srv.round(3).late == 0);
  for (int k = 0; k < W; ++k) CHECK(raw.wrong(k, 3, d, [&](size_t i) { return test::expected_majority(i, 3, W); }) == 0);
  CHECK(raw.c.hub.in_flight() == 0);
  srv.finish(3);
}

TEST_CASE("deadline: no vote in time: every bit is a tie, alternating", "[server][deadline]") {
  const int W = 3;
  test::RawWorkers raw(W);
  auto srv = raw.server(kDim, kPolicy);
  for (int k = 0; k < W; ++k) raw.c.hub.hold(raw.c.worker_rank(k));
  raw.post_all(1, test::whole(kDim));
  CHECK(srv.round(1).late == W);
  for (int k = 0; k < W; ++k) {
    raw.c.hub.deliver(raw.c.worker_rank(k));
    CHECK(raw.wrong(k, 1, test::whole(kDim), [](size_t i) { return test::sign_of_sum(0, 0, i, 1); }) == 0);
  }
  srv.finish(1);  // takes the three stale votes
  CHECK(raw.c.hub.in_flight() == 0);
}

TEST_CASE("deadline: late max_missed_rounds rounds in a row stops the run naming the rank", "[server][deadline]") {
  const int W = 4, late = 2;  // worker rank 3, never heard from
  test::RawWorkers raw(W);
  auto srv = raw.server(kDim, kPolicy);
  for (uint64_t t = 1; t <= 2; ++t) {
    for (int k : all_but(W, late)) raw.post(k, t, test::whole(kDim));
    CHECK(srv.round(t).late == 1);
  }
  for (int k : all_but(W, late)) raw.post(k, 3, test::whole(kDim));
  CHECK_THROWS_WITH(srv.round(3), Catch::Contains("at step 3: rank 3 missed the round deadline 3 rounds in a row "
                                                  "(cluster.max_missed_rounds = 3) (worker_late)"));
  for (int k : all_but(W, late)) {
    const MsgHeader& h = raw.result(k, 3, test::whole(kDim)).header();
    CHECK(h.status == ErrorCode::worker_late);
    CHECK(h.err_rank == 3);
    CHECK(h.err_expected == 3);
    CHECK(h.err_got == 3);
  }
}

TEST_CASE("deadline: a late worker's stale vote carrying a failure stops the run naming it", "[server][deadline]") {
  const int W = 3, late = 1;  // worker rank 2
  test::RawWorkers raw(W);
  auto srv = raw.server(kDim, kPolicy);
  raw.c.hub.hold(raw.c.worker_rank(late));
  for (int k = 0; k < W; ++k)
    raw.post(k, 1, test::whole(kDim), [k](MsgHeader& h, size_t&) {
      if (k == late) h.status = ErrorCode::nan_gradient, h.err_got = 5;
    });
  CHECK(srv.round(1).late == 1);
  raw.c.hub.deliver(raw.c.worker_rank(late));
  for (int k : all_but(W, late)) raw.post(k, 2, test::whole(kDim));
  CHECK_THROWS_WITH(srv.round(2), Catch::Contains("at step 2: rank 2 produced 5 NaN or infinite coordinates (nan_gradient)"));
  CHECK(srv.last_error().err_rank == 2);
}
