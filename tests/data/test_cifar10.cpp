// CIFAR-10 reader: file order, labels, CHW layout, splits and error messages.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include "data/cifar10.h"
#include "test_util.h"

using namespace signvote::data;
using test::TempDir;

namespace {

// Files data_batch_1 (5), _2 (4), _10 (3): 12 records, global index in the
// numeric file order 1, 2, 10 (a lexicographic sort would put 10 second).
struct Fixture {
  TempDir dir;
  Fixture() {
    test::write_cifar(dir / "data_batch_1.bin", 0, 5);
    test::write_cifar(dir / "data_batch_2.bin", 5, 4);
    test::write_cifar(dir / "data_batch_10.bin", 9, 3);
    test::write_cifar(dir / "test_batch.bin", 100, 6);
    test::write_bytes(dir / "batches.meta.txt", "airplane\n");
  }
};

// Every image of `ds` equals records [first, first+n) of the fixture pattern.
void check_images(const Dataset& ds, std::size_t first, std::size_t n) {
  REQUIRE(ds.size() == n);
  REQUIRE(ds.pixels.size() == n * kImageBytes);
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(ds.labels[i] == test::label_of(first + i));
    const std::uint8_t* img = ds.image(i);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x)
          if (img[c * 1024 + y * 32 + x] != test::pixel(first + i, c, y, x))
            FAIL("image " << i << " differs at c=" << c << " y=" << y << " x=" << x);
  }
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no error>";
}

// An error message is one line and contains `name` (a file, or the reason).
void one_line_naming(const std::string& msg, const std::string& name) {
  INFO(msg);
  CHECK(msg.find(name) != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
}

}  // namespace

TEST_CASE("cifar10 files are listed in numeric order", "[data][cifar10]") {
  Fixture f;
  const auto files = cifar10_train_files(f.dir.path);
  REQUIRE(files.size() == 3);
  CHECK(files[0].filename() == "data_batch_1.bin");
  CHECK(files[1].filename() == "data_batch_2.bin");
  CHECK(files[2].filename() == "data_batch_10.bin");
}

TEST_CASE("cifar10 reads labels and CHW pixels of every split", "[data][cifar10]") {
  Fixture f;
  SECTION("no val") { check_images(load_cifar10(f.dir.path, Split::train, 0, Cifar10Layout::any()), 0, 12); }
  SECTION("val boundary inside a file") {
    check_images(load_cifar10(f.dir.path, Split::train, 2, Cifar10Layout::any()), 0, 10);
    check_images(load_cifar10(f.dir.path, Split::val, 2, Cifar10Layout::any()), 10, 2);
  }
  SECTION("val boundary on a file boundary") {
    check_images(load_cifar10(f.dir.path, Split::train, 3, Cifar10Layout::any()), 0, 9);
    check_images(load_cifar10(f.dir.path, Split::val, 3, Cifar10Layout::any()), 9, 3);
  }
  SECTION("val spanning files") {
    check_images(load_cifar10(f.dir.path, Split::train, 8, Cifar10Layout::any()), 0, 4);
    check_images(load_cifar10(f.dir.path, Split::val, 8, Cifar10Layout::any()), 4, 8);
  }
  SECTION("test") { check_images(load_cifar10(f.dir.path, Split::test), 100, 6); }
  SECTION("single file") { check_images(read_cifar10_file(f.dir / "data_batch_2.bin"), 5, 4); }
}

TEST_CASE("cifar10 class counts", "[data][cifar10]") {
  Fixture f;
  const Dataset ds = load_cifar10(f.dir.path, Split::train, 0, Cifar10Layout::any());
  std::array<std::size_t, 10> expect{};
  for (std::size_t i = 0; i < 12; ++i) ++expect[test::label_of(i)];
  CHECK(ds.class_counts() == expect);
}

TEST_CASE("cifar10 split names", "[data][cifar10]") {
  for (Split s : {Split::train, Split::val, Split::test}) CHECK(parse_split(split_name(s)) == s);
  CHECK_THROWS_WITH(parse_split("valid"), Catch::Contains("valid"));
}

TEST_CASE("cifar10 errors are one line naming the file or directory", "[data][cifar10]") {
  Fixture f;
  const std::string d = f.dir.path.string();
  SECTION("missing directory") {
    const std::string missing = d + "/nope";
    one_line_naming(error_of([&] { load_cifar10(missing, Split::train); }), missing);
    one_line_naming(error_of([&] { load_cifar10(missing, Split::test); }), missing);
  }
  SECTION("no data_batch files") {
    TempDir empty;
    test::write_cifar(empty / "test_batch.bin", 0, 1);
    one_line_naming(error_of([&] { load_cifar10(empty.path, Split::train); }), empty.path.string());
  }
  SECTION("size not a multiple of 3073") {
    test::write_bytes(f.dir / "data_batch_2.bin", std::string(3073 * 2 + 5, '\1'));
    const std::string msg = error_of([&] { load_cifar10(f.dir.path, Split::val, 1, Cifar10Layout::any()); });
    one_line_naming(msg, "data_batch_2.bin");
    CHECK(msg.find("3073") != std::string::npos);
  }
  SECTION("label above 9") {
    std::string bytes = test::read_bytes(f.dir / "data_batch_10.bin");
    bytes[3073 * 1] = 10;  // record 1's label
    test::write_bytes(f.dir / "data_batch_10.bin", bytes);
    const std::string msg = error_of([&] { load_cifar10(f.dir.path, Split::train, 0, Cifar10Layout::any()); });
    one_line_naming(msg, "data_batch_10.bin");
    CHECK(msg.find("label 10") != std::string::npos);
  }
  SECTION("unreadable file: a directory in its place") {
    std::filesystem::create_directory(f.dir / "data_batch_3.bin");
    one_line_naming(error_of([&] { load_cifar10(f.dir.path, Split::train, 0, Cifar10Layout::any()); }), "data_batch_3.bin");
  }
  SECTION("unreadable file: no read permission") {
    if (::geteuid() == 0) return;  // root reads anything; covered by the case above
    ::chmod((f.dir / "data_batch_1.bin").c_str(), 0);
    one_line_naming(error_of([&] { load_cifar10(f.dir.path, Split::train, 0, Cifar10Layout::any()); }),
                    "data_batch_1.bin");
  }
  SECTION("missing test_batch suggests --split val") {
    std::filesystem::remove(f.dir / "test_batch.bin");
    const std::string msg = error_of([&] { load_cifar10(f.dir.path, Split::test); });
    one_line_naming(msg, "test_batch.bin");
    CHECK(msg.find("--split val") != std::string::npos);
  }
  SECTION("val_count too large") {
    one_line_naming(error_of([&] { load_cifar10(f.dir.path, Split::train, 12, Cifar10Layout::any()); }), d);
    CHECK_THROWS(load_cifar10(f.dir.path, Split::val, 0, Cifar10Layout::any()));
    CHECK_NOTHROW(load_cifar10(f.dir.path, Split::val, 11, Cifar10Layout::any()));
  }
}

TEST_CASE("cifar10 layout: every expected file present and whole", "[data][cifar10]") {
  TempDir dir;
  const Cifar10Layout layout{3, 4};  // data_batch_1..3.bin, 4 records each
  for (int k = 1; k <= 3; ++k)
    test::write_cifar(dir / ("data_batch_" + std::to_string(k) + ".bin"), 4 * (k - 1), 4);
  CHECK(load_cifar10(dir.path, Split::train, 2, layout).size() == 10);
  SECTION("a missing file is named, even when the rest is a whole multiple") {
    std::filesystem::remove(dir / "data_batch_2.bin");
    const std::string msg = error_of([&] { load_cifar10(dir.path, Split::train, 2, layout); });
    one_line_naming(msg, "data_batch_2.bin");
    CHECK(msg.find("not found") != std::string::npos);
  }
  SECTION("an empty file") {
    test::write_bytes(dir / "data_batch_3.bin", "");
    one_line_naming(error_of([&] { load_cifar10(dir.path, Split::train, 2, layout); }), "holds 0 records, expected 4");
  }
  SECTION("a file cut at a record boundary") {
    test::write_cifar(dir / "data_batch_3.bin", 8, 3);
    one_line_naming(error_of([&] { load_cifar10(dir.path, Split::val, 2, layout); }), "holds 3 records, expected 4");
  }
  SECTION("a file the layout does not expect") {
    test::write_cifar(dir / "data_batch_4.bin", 12, 4);
    one_line_naming(error_of([&] { load_cifar10(dir.path, Split::train, 2, layout); }), "unexpected");
  }
  SECTION("the official layout wants data_batch_1..5 of 10000") {
    one_line_naming(error_of([&] { load_cifar10(dir.path, Split::train); }), "holds 4 records, expected 10000");
  }
}
