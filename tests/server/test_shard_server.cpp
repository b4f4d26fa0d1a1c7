// ShardServer's validation and verdicts in one process (comm::LoopbackHub):
// raw workers send closed-form votes, one of them bent; the round must stop
// with the RESULT and the RoundError naming the offending rank exactly as
// the MPI runs do (tests/mpi: "mpi: ... names the rank").
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "server/raw_workers.h"

#include <string>

using namespace signvote;
using protocol::ErrorCode;
using protocol::MsgHeader;

namespace {

using Bend = std::function<void(MsgHeader&, size_t&)>;
constexpr size_t kDim = 1000;  // 32 packed words: 128 B of payload
constexpr size_t kVoteBytes = protocol::kHeaderBytes + 4 * 32;  // 256 B; a receive slot is 64 B more

// One way to bend the VOTE of worker rank 3, and what the server must say.
struct Bent {
  const char* name;
  std::function<void(MsgHeader&, size_t&)> bend;
  ErrorCode code;
  uint32_t err_rank;
  uint64_t expected, got;
  std::string text;  // in RoundError::what()
};

std::vector<Bent> bent_votes() {
  using B = Bend;
  return {
      {"step", B([](MsgHeader& h, size_t&) { h.step += 1000; }), ErrorCode::step_mismatch, 3, 1, 1001,
       "rank 3 sent step 1001, expected step 1 (step_mismatch)"},
      {"length", B([](MsgHeader& h, size_t&) { ++h.length; }), ErrorCode::length_mismatch, 3, kDim, kDim + 1,
       "rank 3 sent length/offset 1001, expected 1000 (length_mismatch)"},
      {"offset", B([](MsgHeader& h, size_t&) { h.offset = 512; }), ErrorCode::length_mismatch, 3, 0, 512,
       "rank 3 sent length/offset 512, expected 0"},
      {"version", B([](MsgHeader& h, size_t&) { ++h.version; }), ErrorCode::bad_version, 3,
       protocol::kProtocolVersion, protocol::kProtocolVersion + 1u, fmt::format("rank 3 speaks protocol version {}, expected {}", protocol::kProtocolVersion + 1, protocol::kProtocolVersion)},
      {"magic", B([](MsgHeader& h, size_t&) { h.magic = 0; }), ErrorCode::bad_magic, 3, protocol::kMagic, 0,
       "rank 3 sent a message with magic 0x0"},
      {"kind", B([](MsgHeader& h, size_t&) { h.kind = protocol::MsgKind::result; }), ErrorCode::bad_kind, 3, 1, 2,
       "rank 3: bad_kind (expected 1, got 2)"},
      // 64 B more: fits the receive's slack, so the count is exact.
      {"bytes (over by 64)", B([](MsgHeader&, size_t& n) { n += 64; }), ErrorCode::size_mismatch, 3, kVoteBytes,
       kVoteBytes + 64, "rank 3 sent 320 bytes, expected 256 (size_mismatch)"},
      // 128 B more: truncated (MPI's error), reported as "at least slot + 1".
      {"bytes (truncated)", B([](MsgHeader&, size_t& n) { n += 128; }), ErrorCode::size_mismatch, 3, kVoteBytes,
       kVoteBytes + 64 + 1, "rank 3 sent 321 bytes, expected 256"},
      {"bytes (header only)", B([](MsgHeader&, size_t& n) { n = protocol::kHeaderBytes; }), ErrorCode::size_mismatch,
       3, kVoteBytes, protocol::kHeaderBytes, "rank 3 sent 128 bytes, expected 256"},
      {"NaN status", B([](MsgHeader& h, size_t&) { h.status = ErrorCode::nan_gradient, h.err_got = 3; }),
       ErrorCode::nan_gradient, 3, 0, 3, "rank 3 produced 3 NaN or infinite coordinates (nan_gradient)"},
      {"failure status", B([](MsgHeader& h, size_t&) { h.status = ErrorCode::worker_failed; }),
       ErrorCode::worker_failed, 3, 0, 0, "rank 3 failed locally (see its log) (worker_failed)"},
      // A worker that knows another rank is at fault names it (err_rank).
      {"failure naming rank 4", B([](MsgHeader& h, size_t&) { h.status = ErrorCode::worker_failed, h.err_rank = 4; }),
       ErrorCode::worker_failed, 4, 0, 0, "rank 4 failed locally"},
  };
}

}  // namespace

// Every case twice: a server that spins while it waits, and one that sleeps
// (cluster.server_wait: sleep; util::Backoff over test_some).
TEST_CASE("good votes get the closed-form majority, ties alternating", "[server][loopback]") {
  const bool sleep = GENERATE(false, true);
  for (int W : {5, 6}) {
    INFO("server_wait " << (sleep ? "sleep" : "spin"));
    test::RawWorkers raw(W);
    auto srv = raw.server(4099, {0, 10, sleep});
    for (uint64_t t = 1; t <= 2; ++t) {  // odd t: every count 0..W of positive votes occurs
      raw.post_all(t, test::whole(4099));
      const server::RoundSummary s = srv.round(t);
      CHECK(s.late == 0);
      CHECK(s.bytes_recv_per_worker == protocol::kHeaderBytes + 4 * comm::payload_words(4099));
      CHECK(s.bytes_sent_per_worker == s.bytes_recv_per_worker);
      for (int k = 0; k < W; ++k) {
        int bytes = 0;
        const auto& h = raw.result(k, t, test::whole(4099), &bytes).header();
        CHECK(bytes == static_cast<int>(s.bytes_sent_per_worker));
        CHECK(h.status == ErrorCode::ok);
        CHECK(h.kind == protocol::MsgKind::result);
        CHECK(h.step == t);
        CHECK(h.rank == 0);
        CHECK(raw.wrong(k, t, test::whole(4099), [&](size_t i) { return test::expected_majority(i, t, W); }) == 0);
      }
    }
  }
}

// With H local steps the rounds come at steps H, 2H, ...: the ties follow
// the round's index (ShardServer::set_round_steps), or an even H would send every tie
// of a coordinate the same way round after round.
TEST_CASE("ties alternate by the round's index, not the step (local steps)", "[server][loopback]") {
  const int W = 6;
  test::RawWorkers raw(W);
  auto srv = raw.server(4099, {0, 10, false});
  srv.set_round_steps(2);
  for (uint64_t r = 1; r <= 2; ++r) {
    const uint64_t t = 2 * r;  // H = 2: steps 2 and 4, both even
    for (int k = 0; k < W; ++k) raw.post(k, t, test::whole(4099), {}, r);
    CHECK(srv.round(t).late == 0);
    // round r's votes are vote_of(k, i, r): an odd round ties wherever i % (W+1) == W/2
    for (int k = 0; k < W; ++k)
      CHECK(raw.wrong(k, t, test::whole(4099), [&](size_t i) { return test::expected_majority(i, r, W); }) == 0);
  }
}

TEST_CASE("a bent VOTE stops the round naming the rank, every worker told", "[server][loopback]") {
  const bool sleep = GENERATE(false, true);
  for (const Bent& b : bent_votes()) {
    DYNAMIC_SECTION(b.name << (sleep ? " (server_wait sleep)" : "")) {
      test::RawWorkers raw(4);  // worker ranks 1..4; rank 3 (k = 2) misbehaves
      auto srv = raw.server(kDim, {0, 10, sleep});
      for (int k = 0; k < 4; ++k) raw.post(k, 1, test::whole(kDim), k == 2 ? b.bend : nullptr);
      std::string what;
      try {
        srv.round(1);
      } catch (const RoundError& e) {
        what = e.what();
      }
      INFO(what);
      CHECK(what.find("server rank 0 stopped the run at step 1: ") == 0);
      CHECK(what.find(b.text) != std::string::npos);
      const MsgHeader& v = srv.last_error();
      CHECK(v.status == b.code);
      CHECK(v.err_rank == b.err_rank);
      CHECK(v.err_expected == b.expected);
      CHECK(v.err_got == b.got);
      for (int k = 0; k < 4; ++k) {
        int bytes = 0;
        const auto& h = raw.result(k, 1, test::whole(kDim), &bytes).header();
        CHECK(bytes == static_cast<int>(protocol::kHeaderBytes));  // header only: fits any receive
        CHECK(h.status == b.code);
        CHECK(h.err_rank == b.err_rank);
        CHECK(h.step == 1);
        CHECK(comm::describe_error(h) == comm::describe_error(v));
      }
    }
  }
}

TEST_CASE("diverged weight hashes name the odd rank out", "[server][loopback]") {
  test::RawWorkers raw(5);
  auto srv = raw.server(kDim);
  for (int k = 0; k < 5; ++k)
    raw.post(k, 1, test::whole(kDim), [k](MsgHeader& h, size_t&) { h.weight_hash = k == 3 ? 0xBAD : 0x600D; });
  CHECK_THROWS_WITH(srv.round(1), Catch::Contains("rank 4 weights diverged: hash 0x0000000000000bad, majority "
                                                  "0x000000000000600d (hash_mismatch)"));
  CHECK(srv.last_error().err_rank == 4);
  for (int k = 0; k < 5; ++k) CHECK(raw.result(k, 1, test::whole(kDim)).header().status == ErrorCode::hash_mismatch);
}

TEST_CASE("the first offender in rank order is named", "[server][loopback]") {
  test::RawWorkers raw(5);
  auto srv = raw.server(kDim);
  const Bend late_step = [](MsgHeader& h, size_t&) { h.step = 7; };
  for (int k = 0; k < 5; ++k) raw.post(k, 1, test::whole(kDim), k == 1 || k == 3 ? late_step : nullptr);
  CHECK_THROWS_WITH(srv.round(1), Catch::Contains("rank 2 sent step 7, expected step 1"));
}

TEST_CASE("a header-bent step after good rounds names the round it happened in", "[server][loopback]") {
  test::RawWorkers raw(3);
  auto srv = raw.server(kDim);
  raw.post_all(1, test::whole(kDim));
  srv.round(1);
  for (int k = 0; k < 3; ++k)
    raw.post(k, 2, test::whole(kDim), k == 1 ? Bend([](MsgHeader& h, size_t&) { h.step = 3; }) : Bend{});
  CHECK_THROWS_WITH(srv.round(2), Catch::Contains("at step 2: rank 2 sent step 3, expected step 2"));
}

TEST_CASE("every worker leaving ends the run cleanly, some leaving names the first", "[server][loopback]") {
  const Bend leave = [](MsgHeader& h, size_t&) { h.status = ErrorCode::worker_left; };
  SECTION("all left") {
    test::RawWorkers raw(3);
    auto srv = raw.server(kDim);
    for (int k = 0; k < 3; ++k) raw.post(k, 1, test::whole(kDim), leave);
    CHECK(srv.round(1).left);
    const auto& h = raw.result(0, 1, test::whole(kDim)).header();
    CHECK(h.status == ErrorCode::worker_left);
    CHECK(h.err_rank == protocol::kEveryone);
  }
  SECTION("some left") {
    test::RawWorkers raw(3);
    auto srv = raw.server(kDim);
    for (int k = 0; k < 3; ++k) raw.post(k, 1, test::whole(kDim), k >= 1 ? leave : nullptr);
    CHECK_THROWS_WITH(srv.round(1), Catch::Contains("rank 2 left the run (close()) while the other workers went on"));
  }
}

TEST_CASE("abort stops the workers' round naming the server", "[server][loopback]") {
  test::RawWorkers raw(3);
  auto srv = raw.server(kDim);
  raw.post_all(1, test::whole(kDim));
  srv.abort(1);
  for (int k = 0; k < 3; ++k) {
    const auto& h = raw.result(k, 1, test::whole(kDim)).header();
    CHECK(h.status == ErrorCode::worker_failed);
    CHECK(h.err_rank == 0);
  }
}
