// LocalSteps' inner schedule: it counts inner steps of run.steps, and
// follows the budget's fraction from the server's clock when that is
// further (run.time_limit_s). The problem's gradient is 1 everywhere, so
// the pseudo-gradient x_start - x_H is the sum of the inner lrs.
#include "worker/local_steps.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

using namespace signvote;
using namespace signvote::worker;

namespace {

constexpr size_t kD = 5;

// g = 1 at every x (d = kD).
struct Ones final : Problem {
  std::span<float> params() override { return x; }
  std::span<float> grads() override { return g; }
  StepResult compute(uint64_t) override {
    g.assign(kD, 1.0f);
    return {};
  }
  std::string save_state() const override { return {}; }
  void restore_state(const std::string&) override {}
  std::vector<float> x = std::vector<float>(kD), g = std::vector<float>(kD);
};

// H = 2 inner SGD steps (no momentum, no decay) at lr 0.1 with a cosine
// schedule over run.steps = 1000.
std::unique_ptr<Problem> local_cosine() {
  Config cfg;
  cfg.run.steps = 1000;
  cfg.aggregation.local_steps = 2;
  cfg.inner.lr = 0.1;
  cfg.inner.schedule = "cosine";
  cfg.inner.schedule_kind = LrSchedule::cosine;
  return with_local_steps(cfg, std::make_unique<Ones>());
}

double cosine_lr(double p) { return 0.1 * 0.5 * (1.0 + std::cos(std::numbers::pi * p)); }

}  // namespace

TEST_CASE("local steps: the inner schedule counts inner steps of run.steps", "[local_steps]") {
  auto p = local_cosine();
  p->compute(500);  // inner steps 499 and 500
  const double want = cosine_lr(0.499) + cosine_lr(0.5);
  for (float g : p->grads()) CHECK(g == Approx(want).epsilon(1e-5));
  for (float x : p->params()) CHECK(x == 0.0f);  // back at x_start
}

TEST_CASE("local steps: the inner schedule follows a time budget that is further", "[local_steps]") {
  auto p = local_cosine();
  p->set_budget_progress(0.75);  // the server's clock: 3/4 of run.time_limit_s spent
  p->compute(2);                 // inner steps 1 and 2: 0.001 and 0.002 of run.steps
  for (float g : p->grads()) CHECK(g == Approx(2 * cosine_lr(0.75)).epsilon(1e-5));
  p->set_budget_progress(1.0);  // the budget is over: the cosine ends at 0
  p->compute(4);
  for (float g : p->grads()) CHECK(std::abs(g) < 1e-9f);
  p->set_budget_progress(0.0001);  // behind the step count: the steps decide
  p->compute(600);
  for (float g : p->grads()) CHECK(g == Approx(cosine_lr(0.599) + cosine_lr(0.6)).epsilon(1e-5));
}
