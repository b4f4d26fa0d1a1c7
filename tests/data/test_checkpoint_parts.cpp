// Per-worker checkpoint parts in a CheckpointDir: when a step is complete,
// what latest(), pruning and claim() do with incomplete steps, and the
// errors naming a missing or foreign part.
#include <catch2/catch.hpp>

#include "formats/checkpoint.h"
#include "test_util.h"

using namespace signvote::data;
using test::TempDir;
namespace fs = std::filesystem;

namespace {

Checkpoint main_file(std::uint64_t step, int workers) {
  Checkpoint c;
  c.arrays["params"] = {1.f, 2.f, float(step)};
  c.scalars["step"] = step;
  c.scalars["run_id"] = 0xA;
  c.scalars["parts"] = static_cast<std::uint64_t>(workers);
  return c;
}

Checkpoint part(std::uint64_t step, int k, std::uint64_t run = 0xA) {
  Checkpoint c;
  c.arrays["momentum." + std::to_string(k)] = {float(k), float(step)};
  c.scalars["step"] = step;
  c.scalars["run_id"] = run;
  c.scalars["worker"] = static_cast<std::uint64_t>(k);
  return c;
}

// Worker 0's order (its part, then the file) and the other workers' parts `others`.
void save_step(CheckpointDir& cd, std::uint64_t step, int workers, const std::vector<int>& others) {
  cd.save_part(part(step, 0), step, 0, workers);
  cd.save(main_file(step, workers), step);
  for (int k : others) cd.save_part(part(step, k), step, k, workers);
}

std::vector<std::uint64_t> steps(const std::vector<std::pair<std::uint64_t, fs::path>>& files) {
  std::vector<std::uint64_t> out;
  for (const auto& f : files) out.push_back(f.first);
  return out;
}

}  // namespace

TEST_CASE("checkpoint parts: complete steps, latest, pruning", "[data][checkpoint]") {
  TempDir root;
  CheckpointDir cd(root / "run", 1);
  cd.claim(DirClaim{.run_id = 0xA}, false);
  CHECK(CheckpointDir::part_name(30, 2, 3) == "ckpt-000000000030.part-2-of-3");
  save_step(cd, 10, 3, {1, 2});
  save_step(cd, 20, 3, {2});  // worker 1's part still being written
  CHECK(steps(cd.list()) == std::vector<std::uint64_t>{10, 20});
  CHECK(steps(cd.list_complete()) == std::vector<std::uint64_t>{10});
  CHECK(cd.latest() == root / "run" / CheckpointDir::file_name(10));  // latest.ckpt names 20: not complete
  cd.save_part(part(20, 1), 20, 1, 3);
  CHECK(cd.latest() == root / "run" / CheckpointDir::file_name(20));

  // keep_last 1 with an incomplete newest step: the newest complete one stays.
  save_step(cd, 30, 3, {1});
  CHECK(steps(cd.list()) == std::vector<std::uint64_t>{20, 30});
  CHECK(cd.step_files(10).empty());  // 10's file and parts were pruned
  CHECK(cd.step_files(20).size() == 4);
  cd.save_part(part(30, 2), 30, 2, 3);
  save_step(cd, 40, 3, {1, 2});  // pruned when worker 0 saved: 40 was not complete yet
  CHECK(steps(cd.list()) == std::vector<std::uint64_t>{30, 40});
  CHECK(cd.step_files(20).empty());

  // A checkpoint without parts (gathered into worker 0) is complete by itself.
  Checkpoint whole = main_file(50, 3);
  whole.scalars.erase("parts");
  cd.save(whole, 50);
  CHECK(cd.latest() == root / "run" / CheckpointDir::file_name(50));
  CHECK(steps(cd.list()) == std::vector<std::uint64_t>{50});
  CHECK(cd.step_files(40).empty());
  CHECK(read_checkpoint_with_parts(*cd.latest()) == whole);
}

TEST_CASE("checkpoint parts: claim removes an interrupted checkpoint, rewind moves parts", "[data][checkpoint]") {
  TempDir root;
  const fs::path dir = root / "run";
  {
    CheckpointDir a(dir, 0);
    a.claim(DirClaim{.run_id = 0xA}, false);
    save_step(a, 10, 2, {1});
    save_step(a, 20, 2, {1});
    save_step(a, 30, 2, {});  // the node of worker 1 died while writing
    a.save_part(part(40, 1), 40, 1, 2);  // a part whose step never got its file
  }
  SECTION("resuming the newest complete step removes the incomplete ones") {
    CheckpointDir b(dir, 0);
    CHECK_THAT(b.claim(DirClaim{.run_id = 0xA, .resuming = true, .resume_step = 20}, true),
               Catch::Contains("removed the files of 2 incomplete checkpoint(s)"));
    CHECK(b.step_files(30).empty());
    CHECK(b.step_files(40).empty());
    CHECK(b.step_files(20).size() == 3);
  }
  SECTION("a restart from step 0 (nothing complete) is not refused") {
    for (std::uint64_t s : {10, 20}) fs::remove(dir / CheckpointDir::part_name(s, 1, 2));
    CheckpointDir b(dir, 0);
    CHECK_NOTHROW(b.claim(DirClaim{.run_id = 0xA}, false));
    CHECK(b.list().empty());
  }
  SECTION("--rewind sets a later step aside with its parts") {
    CheckpointDir b(dir, 0);
    b.claim(DirClaim{.run_id = 0xA, .resuming = true, .resume_step = 10, .rewind = true}, true);
    CHECK(fs::exists(dir / "rewound-10" / CheckpointDir::file_name(20)));
    CHECK(fs::exists(dir / "rewound-10" / CheckpointDir::part_name(20, 1, 2)));
    CHECK(b.step_files(20).empty());
  }
}

TEST_CASE("checkpoint parts: a missing or foreign part is named", "[data][checkpoint]") {
  TempDir root;
  CheckpointDir cd(root / "run", 0);
  cd.claim(DirClaim{.run_id = 0xA}, false);
  save_step(cd, 10, 2, {});
  const fs::path file = root / "run" / CheckpointDir::file_name(10);
  Checkpoint c = read_checkpoint(file);
  CHECK_THROWS_WITH(add_part(c, file, 1), Catch::Contains("worker 1's part") && Catch::Contains("part-1-of-2' is missing"));
  cd.save_part(part(10, 1, 0xB), 10, 1, 2);  // another run's part under this step's name
  CHECK_THROWS_WITH(add_part(c, file, 1), Catch::Contains("belongs to another step or run"));
  cd.save_part(part(10, 1), 10, 1, 2);
  add_part(c, file, 1);
  CHECK(c.arrays.at("momentum.1") == std::vector<float>{1.f, 10.f});
  add_part(c, file, 5);  // a worker new to the run has no part: nothing to add
  CHECK(c.arrays.size() == 2);
}
