// server::BucketRounds in one process: a shard cut into several buckets,
// each a message of its own (header bucket = b, tags + b), served last one
// first; a failed bucket stops the ones not yet served with its cause.
#include <catch2/catch.hpp>

#include "comm/topology.h"
#include "server/buckets.h"
#include "server/raw_workers.h"

#include <exception>
#include <thread>

using namespace signvote;
using protocol::ErrorCode;

namespace {

constexpr size_t kDim = 20000;
constexpr size_t kBucket = 2048;  // coordinates: 10 buckets of whole 512-blocks

server::BucketRounds buckets(test::RawWorkers& raw) {
  const auto& ops = kernels::best_ops();
  return server::BucketRounds(raw.c.peers(0), raw.c.net(0), kDim, kBucket, comm::RoundFormat::sign_bits(),
                              [&](size_t) { return server::majority_vote(ops); }, {});
}

}  // namespace

TEST_CASE("buckets: several per shard, served last one first", "[server][buckets]") {
  const int W = 3;
  test::RawWorkers raw(W, std::chrono::milliseconds(2000));
  auto srv = buckets(raw);
  const auto ranges = comm::plan_ranges(kDim, 1, kBucket);
  REQUIRE(srv.buckets() == ranges.size());
  REQUIRE(srv.buckets() > 2);
  for (size_t b = 0; b < ranges.size(); ++b) CHECK(srv.bucket(b).shard().bucket == static_cast<int>(b));
  // The server in its own thread; the workers send bucket b only once the
  // RESULT of bucket b + 1 is back. A server serving first bucket first
  // would wait for bucket 0 forever (the loopback's wait limit fails it).
  std::exception_ptr failed;
  std::thread server([&] {
    try {
      srv.round(1);
    } catch (...) {
      failed = std::current_exception();
    }
  });
  for (size_t b = ranges.size(); b-- > 0;) {
    raw.post_all(1, ranges[b]);
    for (int k = 0; k < W; ++k) {
      const auto& h = raw.result(k, 1, ranges[b]).header();
      CHECK(h.bucket == b);
      CHECK(h.offset == ranges[b].offset);
      CHECK(h.length == ranges[b].length);
      CHECK(raw.wrong(k, 1, ranges[b], [&](size_t i) { return test::expected_majority(i, 1, W); }) == 0);
    }
  }
  server.join();
  CHECK_FALSE(failed);
}

TEST_CASE("buckets: a failed bucket stops the rest with its cause", "[server][buckets]") {
  const int W = 3;
  const auto ranges = comm::plan_ranges(kDim, 1, kBucket);
  for (size_t bad : {ranges.size() - 1, size_t{0}}) {  // served first, served last
    DYNAMIC_SECTION("offender in bucket " << bad) {
      test::RawWorkers raw(W);
      auto srv = buckets(raw);
      for (size_t b = 0; b < ranges.size(); ++b)
        for (int k = 0; k < W; ++k)
          raw.post(k, 1, ranges[b], [&](protocol::MsgHeader& h, size_t&) {
            if (k == 1 && b == bad) h.step = 9;
          });
      CHECK_THROWS_WITH(srv.round(1), Catch::Contains("rank 2 sent step 9, expected step 1"));
      for (size_t b = 0; b < ranges.size(); ++b)
        for (int k = 0; k < W; ++k) {
          const auto& h = raw.result(k, 1, ranges[b]).header();
          // Buckets served before the failure went through.
          CHECK(h.status == (b > bad ? ErrorCode::ok : ErrorCode::step_mismatch));
          if (b <= bad) CHECK(h.err_rank == 2);
        }
    }
  }
}
