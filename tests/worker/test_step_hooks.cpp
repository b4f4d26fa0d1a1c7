// The step hooks' own logic: when a fault fires, what an adversary does to
// its round, and the weight hash of hash steps.
#include <catch2/catch.hpp>

#include "fake_problem.h"
#include "formats/hash.h"
#include "worker/adversary_hook.h"
#include "worker/faults.h"
#include "worker/weight_hash.h"

using namespace signvote;
using namespace signvote::worker;
using worker::test::FakeProblem;

TEST_CASE("faults: the wrong header fires on its rank and step only", "[faults]") {
  FaultConfig f;
  f.wrong_step_rank = 3;
  f.wrong_step_at = 5;
  CHECK(Faults(f, 3).wrong_header_due(5));
  CHECK_FALSE(Faults(f, 3).wrong_header_due(4));
  CHECK_FALSE(Faults(f, 2).wrong_header_due(5));
  CHECK_FALSE(Faults(FaultConfig{}, 0).wrong_header_due(0));  // off by default
}

TEST_CASE("faults: the straggler is late on every every-th step", "[faults]") {
  FaultConfig f;
  f.delay_rank = 2;
  f.delay_ms = 40;
  f.every = 3;
  const Faults straggler(f, 2);
  CHECK(straggler.delay_at(3).count() == 40);
  CHECK(straggler.delay_at(6).count() == 40);
  CHECK(straggler.delay_at(4).count() == 0);
  CHECK(Faults(f, 1).delay_at(3).count() == 0);
  f.delay_ms = 0;
  CHECK(Faults(f, 2).delay_at(3).count() == 0);
  straggler.before_round(4);  // not due: returns at once
}

TEST_CASE("adversary hook: who corrupts g and who flips packed signs", "[adversary]") {
  Config cfg;
  cfg.adversary.count = 1;  // worker 0
  cfg.adversary.mode_kind = AdversaryMode::invert;
  const AdversaryHook vote_inverter(cfg, 0, true);
  CHECK(vote_inverter.invert_signs());
  CHECK_FALSE(vote_inverter.corrupts_gradient());
  const AdversaryHook dense_inverter(cfg, 0, false);  // no packed signs: g is negated
  CHECK_FALSE(dense_inverter.invert_signs());
  CHECK(dense_inverter.corrupts_gradient());
  const AdversaryHook honest(cfg, 1, true);
  CHECK_FALSE(honest.invert_signs());
  CHECK_FALSE(honest.corrupts_gradient());
  for (AdversaryMode simulated : {AdversaryMode::collude, AdversaryMode::alie, AdversaryMode::ipm}) {  // forged by the server
    cfg.adversary.mode_kind = simulated;
    CHECK_FALSE(AdversaryHook(cfg, 0, true).corrupts_gradient());
    CHECK_FALSE(AdversaryHook(cfg, 0, true).invert_signs());
  }
  cfg.adversary.mode_kind = AdversaryMode::gaussian;
  CHECK(AdversaryHook(cfg, 0, true).corrupts_gradient());
}

TEST_CASE("adversary hook: a negative adversary scales g by -scale, seeded per worker", "[adversary]") {
  Config cfg;
  cfg.adversary.count = 2;
  cfg.adversary.mode_kind = AdversaryMode::negative;
  cfg.adversary.scale = 10;
  cfg.run.seed = 5;
  FakeProblem p(3, 0);
  p.g = {1.f, -2.f, 0.5f};
  AdversaryHook(cfg, 0, true).after_compute(1, p);
  CHECK(p.g == std::vector<float>{-10.f, 20.f, -5.f});
  CHECK(AdversaryHook(cfg, 0, true).seed() == 5 + 7919u);
  CHECK(AdversaryHook(cfg, 1, true).seed() == 5 + 2 * 7919u);
  cfg.adversary.count = 0;
  AdversaryHook(cfg, 0, true).after_compute(1, p);  // honest: g stays
  CHECK(p.g == std::vector<float>{-10.f, 20.f, -5.f});
}

TEST_CASE("weight hash: 0 off hash steps, hash | 1 on them", "[weight_hash]") {
  FakeProblem p(4, 0);
  p.x = {0.f, 0.f, 0.f, 0.f};
  const WeightHash every3(3, 1);
  CHECK(every3.at(2, p) == 0);
  const uint64_t h = every3.at(3, p);
  CHECK(h == (data::hash_floats(p.x) | 1u));
  CHECK((h & 1u) == 1u);  // never 0 on hash steps
  CHECK(every3.due(6));
  CHECK_FALSE(WeightHash(0, 1).due(6));  // run.hash_every: 0 = off
  CHECK(WeightHash(0, 1).at(6, p) == 0);
}

TEST_CASE("periods under local steps act at the first round at or after each multiple", "[weight_hash]") {
  // rounds every 4 inner steps, a period of 10: due at 12 (>= 10), 20, 32 (>= 30), 40
  std::vector<uint64_t> due;
  for (uint64_t step = 4; step <= 40; step += 4)
    if (period_due(step, 10, 4)) due.push_back(step);
  CHECK(due == std::vector<uint64_t>{12, 20, 32, 40});
  for (uint64_t step = 1; step <= 30; ++step) CHECK(period_due(step, 5, 1) == (step % 5 == 0));
  CHECK_FALSE(period_due(8, 0, 4));
  CHECK(WeightHash(10, 4).due(12));
  CHECK_FALSE(WeightHash(10, 4).due(16));
}
