// Checkpoint format round trip, error cases, atomic writes, CheckpointDir and the CSV writer.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "formats/checkpoint.h"
#include "formats/crc32.h"
#include "formats/csv_file.h"
#include "test_util.h"

using namespace signvote::data;
using test::TempDir;
namespace fs = std::filesystem;

namespace {

Checkpoint sample(std::uint64_t step) {
  Checkpoint c;
  std::vector<float> w(1000);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.1f * i) * (step + 1);
  c.arrays["model.weights"] = w;
  c.arrays["bn.running_var"] = {1.0f, -0.0f, std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::denorm_min()};
  c.arrays["empty"] = {};
  c.scalars["step"] = step;
  c.scalars["max"] = std::numeric_limits<std::uint64_t>::max();
  c.blobs["config.yaml"] = "model: resnet20\nlr: 0.001\n";
  c.blobs["rng"] = std::string("\0\1\2\xff", 4);  // binary, embedded NUL
  c.blobs[""] = "";                               // empty name and payload
  return c;
}

std::string error_of(const fs::path& file) {
  try {
    read_checkpoint(file);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no error>";
}

std::size_t count_entries(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("crc32 matches the IEEE / zlib reference value", "[data][checkpoint]") {
  CHECK(crc32("123456789", 9) == 0xCBF43926u);
  CHECK(crc32("", 0) == 0u);
  // Incremental == one shot, across the 8-byte fast path boundary.
  const std::string s = "The quick brown fox jumps over the lazy dog";
  CHECK(crc32(s.data(), s.size()) == 0x414FA339u);
  CHECK(crc32(s.data() + 13, s.size() - 13, crc32(s.data(), 13)) == 0x414FA339u);
}

TEST_CASE("checkpoint round trip is exact, NaN bits included", "[data][checkpoint]") {
  TempDir dir;
  Checkpoint c = sample(7);
  const std::uint32_t nan_bits = 0x7FC01234u;  // NaN with a payload
  float nan;
  std::memcpy(&nan, &nan_bits, 4);
  c.arrays["nan"] = {nan};
  write_checkpoint_atomic(dir / "a.ckpt", c);
  const Checkpoint r = read_checkpoint(dir / "a.ckpt");
  CHECK(r.scalars == c.scalars);
  CHECK(r.blobs == c.blobs);
  REQUIRE(r.arrays.size() == c.arrays.size());
  for (const auto& [name, v] : c.arrays) {
    INFO(name);
    REQUIRE(r.arrays.at(name).size() == v.size());
    CHECK(std::memcmp(r.arrays.at(name).data(), v.data(), v.size() * 4) == 0);
  }
  CHECK(serialize_checkpoint(c) == serialize_checkpoint(r));  // deterministic bytes
  CHECK(test::read_bytes(dir / "a.ckpt") == serialize_checkpoint(c));
}

TEST_CASE("checkpoint read errors are one line naming the file", "[data][checkpoint]") {
  TempDir dir;
  const fs::path file = dir / "x.ckpt";
  const std::string good = serialize_checkpoint(sample(1));
  auto expect_error = [&](const std::string& bytes, const std::string& what) {
    test::write_bytes(file, bytes);
    const std::string msg = error_of(file);
    INFO(msg);
    CHECK(msg.find(file.string()) != std::string::npos);
    CHECK(msg.find(what) != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  };
  SECTION("missing") {
    const std::string msg = error_of(dir / "missing.ckpt");
    CHECK(msg.find("missing.ckpt") != std::string::npos);
    CHECK(msg.find("not found") != std::string::npos);
  }
  SECTION("bad magic") {
    std::string b = good;
    b[0] = 'X';
    expect_error(b, "bad magic");
    expect_error("hello, this is not a checkpoint at all, no", "bad magic");
  }
  SECTION("unsupported version") {
    std::string b = good;
    b[8] = 2;
    expect_error(b, "unsupported format version 2");
  }
  SECTION("truncated at every interesting length") {
    for (std::size_t len : {std::size_t{0}, std::size_t{4}, std::size_t{20}, std::size_t{32},
                            good.size() / 2, good.size() - 1}) {
      INFO("length " << len);
      expect_error(good.substr(0, len), "truncated");
    }
  }
  SECTION("checksum mismatch on any flipped body bit") {
    for (std::size_t pos : {std::size_t{40}, good.size() / 2, good.size() - 5}) {
      std::string b = good;
      b[pos] = static_cast<char>(b[pos] ^ 0x10);
      expect_error(b, "checksum mismatch");
    }
  }
  SECTION("trailing garbage") { expect_error(good + "x", "trailing"); }
}

TEST_CASE("atomic write never leaves partial or temp files", "[data][checkpoint]") {
  TempDir dir;
  const fs::path file = dir / "c.ckpt";
  write_checkpoint_atomic(file, sample(1));
  write_checkpoint_atomic(file, sample(2));  // replace
  CHECK(read_checkpoint(file).scalars.at("step") == 2);
  CHECK(count_entries(dir.path) == 1);  // no temp leftovers

  // A write that fails at the rename (a directory is in the way) must throw,
  // remove its temp file and leave the directory untouched.
  fs::create_directory(dir / "blocked.ckpt");
  CHECK_THROWS_WITH(write_checkpoint_atomic(dir / "blocked.ckpt", sample(3)),
                    Catch::Contains("blocked.ckpt"));
  CHECK(count_entries(dir.path) == 2);
  CHECK_THROWS(write_checkpoint_atomic(dir / "no/such/dir/c.ckpt", sample(3)));
  CHECK(read_checkpoint(file).scalars.at("step") == 2);
}

TEST_CASE("checkpoint dir: latest symlink, pruning, no silent overwrite", "[data][checkpoint]") {
  TempDir root;
  const fs::path dir = root / "run";
  CheckpointDir cd(dir, 2);
  CHECK_FALSE(cd.latest().has_value());  // dir does not exist yet
  CHECK(cd.claim(DirClaim{.run_id = 7}, false).empty());
  for (std::uint64_t step : {100, 200, 300, 1000}) {
    const fs::path p = cd.save(sample(step), step);
    CHECK(p.filename() == CheckpointDir::file_name(step));
    // latest.ckpt works as a plain file path and is the newest save.
    CHECK(read_checkpoint(dir / "latest.ckpt").scalars.at("step") == step);
    CHECK(fs::is_symlink(dir / "latest.ckpt"));
    REQUIRE(cd.latest().has_value());
    CHECK(*cd.latest() == p);
  }
  CHECK(CheckpointDir::file_name(1000) == "ckpt-000000001000.ckpt");
  const auto kept = cd.list();
  REQUIRE(kept.size() == 2);  // keep_last = 2
  CHECK(kept[0].first == 300);
  CHECK(kept[1].first == 1000);
  CHECK(count_entries(dir) == 5);  // 2 ckpts + latest.ckpt + signvote-run(.lock), no temp files

  CHECK_THROWS_WITH(cd.save(sample(0), 1000), Catch::Contains("already exists"));
  CHECK(read_checkpoint(dir / "latest.ckpt").scalars.at("step") == 1000);
  CheckpointDir overwrite(dir, 2, true);
  CHECK_NOTHROW(overwrite.save(sample(5), 1000));

  // Dangling / missing latest.ckpt: latest() falls back to the highest step.
  fs::remove(dir / "latest.ckpt");
  CHECK(cd.latest()->filename() == CheckpointDir::file_name(1000));

  // A regular file named latest.ckpt is never clobbered.
  test::write_bytes(dir / "latest.ckpt", "mine");
  CHECK_THROWS(cd.save(sample(1), 2000));
  CHECK(test::read_bytes(dir / "latest.ckpt") == "mine");

  CheckpointDir keep_all(root / "all", 0);
  keep_all.claim(DirClaim{.run_id = 8}, false);
  for (std::uint64_t s = 1; s <= 4; ++s) keep_all.save(sample(s), s);
  CHECK(keep_all.list().size() == 4);
}

TEST_CASE("checkpoint dir claim: ownership, later checkpoints, temp files, space", "[data][checkpoint]") {
  TempDir root;
  const fs::path dir = root / "run";
  {
    CheckpointDir a(dir, 2);
    a.claim(DirClaim{.run_id = 0xA}, false);
    CHECK(a.owner() == 0xAu);
    for (std::uint64_t s : {10, 20, 30}) a.save(sample(s), s);  // keeps 20, 30
    CheckpointDir live(dir, 2);  // a second job while run A holds the lock
    CHECK_THROWS_WITH(live.claim(DirClaim{.run_id = 0xA, .resuming = true, .resume_step = 30}, true),
                      Catch::Contains("in use by another running job"));
  }

  SECTION("a new run refuses a directory with checkpoints") {
    CheckpointDir b(dir, 2);
    CHECK_THROWS_WITH(b.claim(DirClaim{.run_id = 0xB}, false), Catch::Contains("already holds checkpoints"));
  }
  SECTION("another run's checkpoints are refused, and never pruned") {
    CheckpointDir b(dir, 1);
    CHECK_THROWS_WITH(b.claim(DirClaim{.run_id = 0xB, .resuming = true, .resume_step = 30}, false),
                      Catch::Contains("another run"));
    b.save(sample(40), 40);  // unclaimed: writes, but prunes nothing
    CHECK(b.list().size() == 3);
  }
  SECTION("resuming an earlier checkpoint needs --rewind, which moves the later ones aside") {
    CheckpointDir b(dir, 2);
    const DirClaim c{.run_id = 0xA, .resuming = true, .resume_step = 20};
    CHECK_THROWS_WITH(b.claim(c, true), Catch::Contains("--rewind"));
    DirClaim r = c;
    r.rewind = true;
    CHECK_THAT(b.claim(r, true), Catch::Contains("moved 1 later checkpoint"));
    CHECK(fs::exists(dir / "rewound-20" / CheckpointDir::file_name(30)));
    CHECK(b.list().size() == 1);
    b.save(sample(30), 30);  // the new branch reaches step 30 again
  }
  SECTION("a second rewind to the same step keeps the first one's files") {
    for (int round = 0; round < 2; ++round) {
      CheckpointDir b(dir, 2);
      b.claim(DirClaim{.run_id = 0xA, .resuming = true, .resume_step = 20, .rewind = true}, true);
      b.save(sample(30 + round), 30);
    }
    CHECK(read_checkpoint(dir / "rewound-20" / CheckpointDir::file_name(30)).scalars.at("step") == 30);
    CHECK(read_checkpoint(dir / "rewound-20.2" / CheckpointDir::file_name(30)).scalars.at("step") == 30);
  }
  SECTION("a run file without checkpoints still belongs to its run") {
    fs::remove(dir / CheckpointDir::file_name(20));
    fs::remove(dir / CheckpointDir::file_name(30));
    CheckpointDir b(dir, 2);
    CHECK_THROWS_WITH(b.claim(DirClaim{.run_id = 0xB}, false), Catch::Contains("belongs to run 000000000000000a"));
  }
  SECTION("the same run resumes from its latest") {
    CheckpointDir b(dir, 2);
    CHECK_NOTHROW(b.claim(DirClaim{.run_id = 0xA, .resuming = true, .resume_step = 30}, true));
  }
  SECTION("temp files of interrupted writes go, other files stay") {
    test::write_bytes(dir / ".ckpt-000000000040.ckpt.tmp-123-0", std::string(100, 'x'));
    test::write_bytes(dir / "notes.txt", "mine");
    CheckpointDir b(dir, 2);
    CHECK_THAT(b.claim(DirClaim{.run_id = 0xA, .resuming = true, .resume_step = 30}, true),
               Catch::Contains("removed 1 temp file"));
    CHECK_FALSE(fs::exists(dir / ".ckpt-000000000040.ckpt.tmp-123-0"));
    CHECK(fs::exists(dir / "notes.txt"));
  }
  SECTION("a regular file is not a checkpoint dir; space is checked") {
    test::write_bytes(root / "file", "x");
    CheckpointDir f(root / "file", 1);
    CHECK_THROWS_WITH(f.claim(DirClaim{.run_id = 1}, false), Catch::Contains("not a directory"));
    CheckpointDir big(root / "big", 1);
    CHECK_THROWS_WITH(big.claim(DirClaim{.run_id = 1, .bytes_needed = std::uint64_t(1) << 62}, false),
                      Catch::Contains("MiB free"));
  }
}

TEST_CASE("csv file: checks first, touches the file only at the first row", "[data][csv]") {
  TempDir root;
  const std::string path = (root / "m.csv").string();
  test::write_bytes(path, "old\n");
  CHECK_THROWS_WITH(CsvFile(path, "h\n", {}), Catch::Contains("already exists (pass --overwrite"));
  {
    CsvFile f(path, "h\n", {.overwrite = true});
    CHECK(test::read_bytes(path) == "old\n");  // not truncated before a row
    f.row("1\n");
    f.flush();
    CHECK(test::read_bytes(path) == "h\n1\n");
  }
  {
    CsvFile f(path, "h\n", {.resume = true});
    f.row("2\n");
    f.flush();
    CHECK(test::read_bytes(path) == "h\n1\n2\n");  // appended, no second header
  }
  CsvFile unused((root / "never.csv").string(), "h\n", {});
  unused.flush();
  CHECK_FALSE(fs::exists(root / "never.csv"));
  CHECK_THROWS_WITH(CsvFile((root / "no/dir/x.csv").string(), "h\n", {}), Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(CsvFile(root.path.string(), "h\n", {.overwrite = true}), Catch::Contains("not a regular file"));
}

TEST_CASE("a complete checkpoint without a section: one line naming the file and the section", "[data][checkpoint]") {
  TempDir dir;
  const fs::path file = dir / "partial.ckpt";
  Checkpoint c;
  c.arrays["params"] = {1.f, 2.f};
  c.scalars["step"] = 7;
  write_checkpoint_atomic(file, c);
  const Checkpoint back = read_checkpoint(file);  // the CRC is valid
  CHECK(require_array(back, "params", file).size() == 2);
  CHECK(require_scalar(back, "step", file) == 7);
  auto message = [&](auto&& read) {
    try {
      read();
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string array = message([&] { require_array(back, "buffers.mean", file); });
  CHECK(array.find("checkpoint '" + file.string() + "': no array 'buffers.mean'") == 0);
  CHECK(array.find('\n') == std::string::npos);
  CHECK(message([&] { require_blob(back, "config", file); }).find("no blob 'config'") != std::string::npos);
  CHECK(message([&] { require_scalar(back, "workers", file); }).find("no scalar 'workers'") != std::string::npos);
}
