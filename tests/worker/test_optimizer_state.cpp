// OptimizerState: sizes per round kind, the one sync point, and the
// checkpoint arrays it reads and writes, checked against the layout
// save_run_checkpoint wrote before the class existed (a hand-built copy of
// that code's output: same names, same values, same file image).
#include <catch2/catch.hpp>

#include "fake_problem.h"
#include "formats/checkpoint.h"
#include "worker/checkpointing.h"
#include "worker/optimizer_state.h"

#include <fmt/format.h>

#include <filesystem>
#include <random>

using namespace signvote;
using namespace signvote::worker;
using worker::test::FakeProblem;

namespace {

// Counts the syncs (a cuda engine's device copy stands in).
struct CountingCopy final : DeviceCopy {
  int down = 0, up = 0;
  void download(std::span<float> m, std::span<float>) override { ++down, m[0] = 42; }
  void upload(std::span<const float>, std::span<const float>) override { ++up; }
};

std::vector<float> ramp(size_t n, float base) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = base + 0.25f * static_cast<float>(i);
  return v;
}

// What the code before OptimizerState wrote for W workers with m, v, e of d
// floats each and b buffers (checkpointing.cpp at 62bf2c3, by hand): worker
// k's arrays are ramp(d, 100k + 10), ramp(d, 100k + 20), ramp(d, 100k + 30).
data::Checkpoint old_layout(const Config& cfg, int W, size_t d, size_t b, bool adam, bool ef) {
  data::Checkpoint c;
  c.arrays["params"] = ramp(d, 1);
  std::vector<float> mean(b, 0.f);
  for (int k = 0; k < W; ++k) {
    const float base = 100.f * static_cast<float>(k);
    c.arrays[fmt::format("momentum.{}", k)] = ramp(d, base + 10);
    if (adam) c.arrays[fmt::format("adam_v.{}", k)] = ramp(d, base + 20);
    if (ef) c.arrays[fmt::format("ef_residual.{}", k)] = ramp(d, base + 30);
    c.arrays[fmt::format("buffers.{}", k)] = ramp(b, base + 40);
  }
  for (int k = 0; k < W; ++k)
    for (size_t i = 0; i < b; ++i) mean[i] += ramp(b, 100.f * static_cast<float>(k) + 40)[i] / static_cast<float>(W);
  c.arrays["buffers.mean"] = mean;
  c.scalars["step"] = 7;
  c.scalars["workers"] = static_cast<uint64_t>(W);
  c.scalars["dim"] = d;
  c.scalars["run_id"] = 0x1234;
  c.scalars["elapsed_ms"] = 2500;
  c.blobs["config"] = dump_config(cfg);
  for (int k = 0; k < W; ++k) c.blobs[fmt::format("state.{}", k)] = fmt::format("loader {}", k);
  return c;
}

// The same run as gathered to worker 0 (Gathered: W*n floats per array).
Gathered gathered(OptimizerState& s, int W, size_t b) {
  Gathered g;
  const float offsets[] = {10, 20, 30};
  const auto arrays = s.arrays();
  for (size_t i = 0; i < arrays.size(); ++i) {
    std::vector<float> all;
    for (int k = 0; k < W; ++k) {
      const auto mine = ramp(arrays[i].values.size(), 100.f * static_cast<float>(k) + offsets[i]);
      all.insert(all.end(), mine.begin(), mine.end());
    }
    g.state.push_back(all);
  }
  for (int k = 0; k < W; ++k) {
    const auto mine = ramp(b, 100.f * static_cast<float>(k) + 40);
    g.buffers.insert(g.buffers.end(), mine.begin(), mine.end());
    g.states.push_back(fmt::format("loader {}", k));
  }
  return g;
}

struct TempFile {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               fmt::format("signvote-worker-test-{}.ckpt", std::random_device{}());
  ~TempFile() { std::filesystem::remove(path); }
};

}  // namespace

TEST_CASE("optimizer state: buffers per round kind", "[optimizer_state]") {
  std::vector<float> residual(8, 1.f);
  OptimizerState vote(8, true, false, residual);
  CHECK(vote.m().size() == 8);
  CHECK(vote.v().empty());
  CHECK(vote.e().empty());  // the vote's encoder state is not checkpointed
  OptimizerState adam(8, false, true, residual);
  CHECK(adam.v().size() == 8);
  CHECK(adam.e().data() == residual.data());  // a view of the encoder's buffer
  CHECK(adam.floats() == 24);
  OptimizerState sgd(8, false, false, {});
  CHECK(sgd.v().empty());
  CHECK(sgd.m()[3] == 0.f);  // zero at the start of a run
}

TEST_CASE("optimizer state: one sync point, none without a device copy", "[optimizer_state]") {
  OptimizerState s(4, true, false, {});
  s.to_host(), s.to_device();  // host engines: nothing to do
  CountingCopy dev;
  s.attach(&dev);
  s.to_host();
  CHECK(dev.down == 1);
  CHECK(s.m()[0] == 42.f);
  s.to_device();
  CHECK(dev.up == 1);
  s.attach(nullptr);
  s.to_host();
  CHECK(dev.down == 1);
}

TEST_CASE("optimizer state: checkpoints keep the layout of older checkpoints", "[optimizer_state][checkpoint]") {
  const Config cfg;
  const int W = 2;
  const size_t d = 6, b = 3;
  struct Kind {
    bool vote, adam, ef;
  };
  for (const Kind k : {Kind{true, false, false}, Kind{false, true, false}, Kind{false, false, true},
                       Kind{false, true, true}}) {
    const bool vote = k.vote, adam = k.adam, ef = k.ef;
    CAPTURE(vote, adam, ef);
    std::vector<float> residual(ef ? d : 0);
    OptimizerState s(d, vote, adam, residual);
    const auto params = ramp(d, 1);
    const data::Checkpoint made = make_checkpoint(cfg, {7, 0x1234, 2.5}, params, s, gathered(s, W, b), W);
    const data::Checkpoint old = old_layout(cfg, W, d, b, adam, ef);
    CHECK(made == old);
    CHECK(data::serialize_checkpoint(made) == data::serialize_checkpoint(old));  // the same file image
  }
}

TEST_CASE("optimizer state: resumes from a checkpoint in the older layout", "[optimizer_state][checkpoint]") {
  const Config cfg;
  const size_t d = 6, b = 3;
  TempFile f;
  data::write_checkpoint_atomic(f.path, old_layout(cfg, 2, d, b, true, true));
  const data::Checkpoint c = data::read_checkpoint(f.path);
  std::vector<float> residual(d);
  OptimizerState s(d, false, true, residual);
  FakeProblem p(d, b);
  restore_worker(c, f.path, 1, p, s);
  CHECK(p.x == ramp(d, 1));
  CHECK(std::vector<float>(s.m().begin(), s.m().end()) == ramp(d, 110));
  CHECK(std::vector<float>(s.v().begin(), s.v().end()) == ramp(d, 120));
  CHECK(residual == ramp(d, 130));  // through the encoder's own buffer
  CHECK(p.buf == ramp(b, 140));
  CHECK(p.state == "loader 1");

  OptimizerState vote(d, true, false, {});  // a vote run reads momentum.k alone
  restore_worker(c, f.path, 0, p, vote);
  CHECK(std::vector<float>(vote.m().begin(), vote.m().end()) == ramp(d, 10));

  OptimizerState wider(d + 1, true, false, {});
  FakeProblem q(d + 1, b);
  CHECK_THROWS_WITH(restore_worker(c, f.path, 0, q, wider), Catch::Contains("'params' has 6 values"));
  data::Checkpoint no_m = c;
  no_m.arrays.erase("momentum.0");
  CHECK_THROWS_WITH(restore_worker(no_m, f.path, 0, p, vote), Catch::Contains("no array 'momentum.0'"));
}

TEST_CASE("optimizer state: per-worker parts hold what the gathered file holds", "[optimizer_state][checkpoint]") {
  const Config cfg;
  const int W = 3;
  const size_t d = 6, b = 3;
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    fmt::format("signvote-parts-test-{}", std::random_device{}());
  data::CheckpointDir cd(dir, 1);
  cd.claim(data::DirClaim{.run_id = 0x1234}, false);
  const RunPoint at{7, 0x1234, 2.5};
  std::vector<std::vector<float>> residuals(W, std::vector<float>(d));
  for (int k = W - 1; k >= 0; --k) {  // worker 0 last: its part, then the main file
    OptimizerState s(d, false, true, residuals[k]);
    const float base = 100.f * static_cast<float>(k);
    const auto m = ramp(d, base + 10), v = ramp(d, base + 20), e = ramp(d, base + 30);
    std::copy(m.begin(), m.end(), s.m().begin()), std::copy(v.begin(), v.end(), s.v().begin());
    std::copy(e.begin(), e.end(), s.e().begin());
    cd.save_part(make_part(at, s, k), at.step, k, W);
    if (k != 0) continue;
    Gathered g = gathered(s, W, b);
    g.state.clear();  // per-worker writes gather no optimizer arrays
    cd.save(make_checkpoint(cfg, at, ramp(d, 1), s, g, W), at.step);
  }
  const auto file = cd.latest();
  REQUIRE(file);
  const data::Checkpoint old = old_layout(cfg, W, d, b, true, true);
  data::Checkpoint whole = data::read_checkpoint_with_parts(*file);
  CHECK(whole.scalars.at("parts") == uint64_t(W));
  whole.scalars.erase("parts");
  CHECK(whole == old);  // the same sections, once every part is added

  for (int k = 0; k < W; ++k) {  // each worker reads its own part and restores as from the old file
    data::Checkpoint c = data::read_checkpoint(*file);
    data::add_part(c, *file, k);
    std::vector<float> residual(d);
    OptimizerState s(d, false, true, residual);
    FakeProblem p(d, b);
    restore_worker(c, *file, k, p, s);
    CHECK(std::vector<float>(s.m().begin(), s.m().end()) == ramp(d, 100.f * k + 10));
    CHECK(residual == ramp(d, 100.f * k + 30));
    CHECK(p.state == fmt::format("loader {}", k));
  }
  std::filesystem::remove(dir / data::CheckpointDir::part_name(7, 2, W));
  data::Checkpoint c = data::read_checkpoint(*file);
  CHECK_THROWS_WITH(data::add_part(c, *file, 2), Catch::Contains("part-2-of-3' is missing"));
  CHECK_FALSE(cd.latest());  // no complete checkpoint left
  std::filesystem::remove_all(dir);
}
