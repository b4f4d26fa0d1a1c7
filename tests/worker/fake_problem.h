// A host Problem with fixed buffers for the worker tests: x (d,), g (d,),
// BatchNorm-like buffers (b,) and an opaque state string.
#pragma once

#include "worker/problem.h"

#include <string>
#include <vector>

namespace signvote::worker::test {

struct FakeProblem final : Problem {
  FakeProblem(size_t d, size_t b) : x(d), g(d), buf(b) {}
  std::span<float> params() override { return x; }
  std::span<float> grads() override { return g; }
  std::span<float> buffers() override { return buf; }
  StepResult compute(uint64_t) override { return {}; }
  std::string save_state() const override { return state; }
  void restore_state(const std::string& bytes) override { state = bytes; }
  std::vector<float> x, g, buf;
  std::string state;
};

}  // namespace signvote::worker::test
