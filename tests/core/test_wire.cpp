// Wire protocol: header validation, error lines naming the rank, shard plans.
#include "comm/topology.h"
#include "comm/wire.h"
#include "worker/optimizer.h"

#include <catch2/catch.hpp>

using namespace signvote;
using protocol::ErrorCode;
using protocol::MsgHeader;
using protocol::MsgKind;

namespace {
MsgHeader vote_header(uint64_t step, uint64_t length) {
  MsgHeader h;
  h.kind = MsgKind::vote;
  h.step = step;
  h.length = length;
  h.words = comm::payload_words(length);
  return h;
}
size_t bytes_for(uint64_t length) { return protocol::kHeaderBytes + 4 * comm::payload_words(length); }
}  // namespace

TEST_CASE("wire: payload is padded to 64 bytes", "[wire]") {
  CHECK(comm::payload_words(0) == 0);
  CHECK(comm::payload_words(1) == 16);
  CHECK(comm::payload_words(512) == 16);
  CHECK(comm::payload_words(513) == 32);
  CHECK(bytes_for(1000) % 64 == 0);
}

TEST_CASE("wire: a valid header passes", "[wire]") {
  MsgHeader v;
  CHECK(comm::validate(vote_header(7, 1000), {MsgKind::vote, 7, 1000, 0, comm::payload_words(1000)}, bytes_for(1000), 3, v));
  CHECK(v.status == ErrorCode::ok);
}

TEST_CASE("wire: each mismatch gives its code and names the rank", "[wire]") {
  MsgHeader v;
  const comm::Expect want{MsgKind::vote, 8, 1000, 0, comm::payload_words(1000)};
  SECTION("step") {
    CHECK_FALSE(comm::validate(vote_header(7, 1000), want, bytes_for(1000), 3, v));
    CHECK(v.status == ErrorCode::step_mismatch);
    CHECK(comm::describe_error(v) == "rank 3 sent step 7, expected step 8 (step_mismatch)");
  }
  SECTION("length") {
    CHECK_FALSE(comm::validate(vote_header(8, 999), want, bytes_for(999), 5, v));
    CHECK(v.status == ErrorCode::length_mismatch);
    CHECK_THAT(comm::describe_error(v), Catch::StartsWith("rank 5 "));
  }
  SECTION("byte count") {
    CHECK_FALSE(comm::validate(vote_header(8, 1000), want, bytes_for(1000) + 64, 2, v));
    CHECK(v.status == ErrorCode::size_mismatch);
  }
  SECTION("magic and version") {
    auto h = vote_header(8, 1000);
    h.magic = 0xdeadbeef;
    CHECK_FALSE(comm::validate(h, want, bytes_for(1000), 1, v));
    CHECK(v.status == ErrorCode::bad_magic);
    h = vote_header(8, 1000);
    h.version = 99;
    CHECK_FALSE(comm::validate(h, want, bytes_for(1000), 1, v));
    CHECK(v.status == ErrorCode::bad_version);
  }
  SECTION("a worker's own failure is passed on") {
    auto h = vote_header(8, 1000);
    h.status = ErrorCode::nan_gradient;
    h.err_got = 4;
    CHECK_FALSE(comm::validate(h, want, bytes_for(1000), 6, v));
    CHECK(comm::describe_error(v) == "rank 6 produced 4 NaN or infinite coordinates (nan_gradient)");
  }
}

TEST_CASE("shards: 512-coordinate blocks cover d exactly once", "[wire]") {
  for (size_t d : {1ul, 511ul, 512ul, 1000ul, 100000ul, 11173962ul}) {
    for (int S : {1, 2, 3, 7}) {
      auto plan = comm::split_ranges(d, S);
      REQUIRE(plan.size() == size_t(S));
      size_t next = 0;
      for (const auto& sh : plan) {
        CHECK(sh.offset == next);
        if (sh.length) CHECK(sh.offset % 512 == 0);
        next = sh.offset + sh.length;
      }
      CHECK(next == d);
    }
  }
}

TEST_CASE("buckets: every shard cut into <= 64 buckets of whole blocks, in offset order", "[wire]") {
  for (size_t d : {1ul, 1000ul, 100000ul, 11173962ul}) {
    for (int S : {1, 3}) {
      for (size_t bc : {0ul, 512ul, 5000ul, 1ul << 20}) {
        INFO("d " << d << " S " << S << " bucket " << bc);
        const auto shards = comm::split_ranges(d, S);
        const auto ranges = comm::plan_ranges(d, S, bc);
        size_t next = 0;
        std::vector<int> per_server(static_cast<size_t>(S), 0);
        for (const auto& r : ranges) {
          CHECK(r.offset == next);
          if (r.length) CHECK(r.offset % 512 == 0);
          REQUIRE(r.server >= 0);
          REQUIRE(r.server < S);
          const auto& sh = shards[static_cast<size_t>(r.server)];
          CHECK(r.offset >= sh.offset);
          CHECK(r.offset + r.length <= sh.offset + sh.length);
          CHECK(r.bucket == per_server[static_cast<size_t>(r.server)]++);  // 0, 1, ... within a shard
          if (bc == 0) CHECK(r.length == sh.length);
          next = r.offset + r.length;
        }
        CHECK(next == d);
        for (int s = 0; s < S; ++s) {
          const size_t len = shards[static_cast<size_t>(s)].length;
          const int n = per_server[static_cast<size_t>(s)];
          CHECK(n >= 1);
          CHECK(n <= protocol::kMaxBuckets);
          const size_t want = bc ? (len + bc - 1) / bc : 1;
          const size_t blocks = (len + 511) / 512;
          CHECK(size_t(n) == std::max<size_t>(1, std::min({want, blocks, size_t(protocol::kMaxBuckets)})));
        }
      }
    }
  }
}

TEST_CASE("optimizer: lr schedules", "[optimizer]") {
  OptimizerConfig o;
  o.lr = 0.1;
  o.schedule = "step";
  o.schedule_kind = LrSchedule::step;  // set by parse_config, by hand here
  o.milestones = {10, 20};
  o.gamma = 0.5;
  CHECK(worker::lr_at(o, 10) == Approx(0.1));
  CHECK(worker::lr_at(o, 11) == Approx(0.05));
  CHECK(worker::lr_at(o, 21) == Approx(0.025));
  o.schedule = "warmup_step";
  o.schedule_kind = LrSchedule::warmup_step;  // set by parse_config, by hand here
  o.warmup_steps = 4;
  CHECK(worker::lr_at(o, 1) == Approx(0.025));
  CHECK(worker::lr_at(o, 4) == Approx(0.1));
}

TEST_CASE("optimizer: cosine and linear follow the budget fraction, after warm-up", "[optimizer]") {
  OptimizerConfig o;
  o.lr = 0.1;
  o.schedule = "cosine";
  o.schedule_kind = LrSchedule::cosine;  // set by parse_config, by hand here
  CHECK(worker::lr_at(o, 1, 0.0) == Approx(0.1));
  CHECK(worker::lr_at(o, 50, 0.5) == Approx(0.05));
  CHECK(worker::lr_at(o, 99, 1.0) == Approx(0.0).margin(1e-12));
  CHECK(worker::lr_at(o, 99, 1.5) == Approx(0.0).margin(1e-12));  // clamped
  o.schedule = "linear";
  o.schedule_kind = LrSchedule::linear;  // set by parse_config, by hand here
  CHECK(worker::lr_at(o, 10, 0.25) == Approx(0.075));
  o.warmup_steps = 10;
  CHECK(worker::lr_at(o, 5, 0.25) == Approx(0.0375));  // half warmed up
  CHECK(worker::lr_at(o, 11, 0.25) == Approx(0.075));
  RunConfig r;
  r.steps = 1000;
  CHECK(budget_progress(r, 250, 1e6) == Approx(0.25));  // no time limit: steps alone
  r.time_limit_s = 100;
  CHECK(budget_progress(r, 250, 50) == Approx(0.5));    // the clock ends first
  CHECK(budget_progress(r, 900, 50) == Approx(0.9));    // the steps end first
  CHECK(budget_progress(r, 10, 500) == Approx(1.0));    // clamped
}

TEST_CASE("optimizer: step milestones as fractions of the budget", "[optimizer]") {
  OptimizerConfig o;
  o.lr = 0.1;
  o.schedule = "step";
  o.schedule_kind = LrSchedule::step;  // set by parse_config, by hand here
  o.gamma = 0.1;
  o.milestone_fractions = {0.5, 0.75};
  CHECK(worker::lr_at(o, 7, 0.49) == Approx(0.1));
  CHECK(worker::lr_at(o, 7, 0.5) == Approx(0.01));   // the step at half the budget, whatever its number
  CHECK(worker::lr_at(o, 3, 0.8) == Approx(0.001));
  o.warmup_steps = 4;
  CHECK(worker::lr_at(o, 2, 0.0) == Approx(0.05));   // warm-up applies to step too
  CHECK_THROWS_WITH(parse_config("optimizer:\n  milestone_fractions: [0.5, 1.5]\n", "t.yaml"),
                    Catch::Contains("optimizer.milestone_fractions") && Catch::Contains("(0, 1)"));
  const Config c = parse_config("optimizer:\n  schedule: step\n  milestone_fractions: [0.25, 0.5]\n", "t.yaml");
  CHECK(parse_config(dump_config(c), "again").optimizer.milestone_fractions == std::vector<double>{0.25, 0.5});
}

TEST_CASE("optimizer: SGD with momentum matches the closed form", "[optimizer]") {
  OptimizerConfig o;
  o.name = "sgd";
  o.kind = OptimizerName::sgd;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.weight_decay = 0.0;
  worker::DenseOptimizer opt(o);
  worker::OptimizerState state(1, false, opt.adam(), {});
  float x = 1.0f;
  const float g = 2.0f;
  opt.step({&x, 1}, {&g, 1}, state, 1);  // b = 2, x = 1 - 0.2
  CHECK(x == Approx(0.8f));
  CHECK(state.m()[0] == Approx(2.0f));
  opt.step({&x, 1}, {&g, 1}, state, 2);  // b = 3.8, x = 0.8 - 0.38
  CHECK(x == Approx(0.42f));
}
