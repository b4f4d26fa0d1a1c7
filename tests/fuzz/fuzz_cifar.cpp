// Fuzz harness: the CIFAR-10 binary reader (src/data/cifar10.h).
//
// The input is the content of one CIFAR-format file (records of 3073 bytes:
// 1 label byte 0..9 + 3072 pixel bytes). It is written to a temp file that
// this process reuses, <tmp>/signvote-fuzz-cifar-<pid>/data_batch_1.bin, and
// read with read_cifar10_file; the same folder is then loaded as a CIFAR-10
// directory (train and val splits, val_count 1). Seeds:
// tests/fuzz/corpus/cifar/.
//
// Expected rejections are std::exception (bad size, bad label, val_count too
// large); crashes, UB, hangs and non-std exceptions are findings, and so is a
// Dataset whose sizes disagree with the file's record count.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <unistd.h>

#include "data/cifar10.h"
#include "fuzz_util.h"

namespace {
namespace fs = std::filesystem;
namespace sd = signvote::data;

// One folder per process, removed at exit (left behind only on a crash).
struct TempDir {
  fs::path dir = fs::temp_directory_path() /
                 ("signvote-fuzz-cifar-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(dir); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

fs::path write_input(const std::uint8_t* data, std::size_t size) {
  static const TempDir tmp;
  const fs::path file = tmp.dir / "data_batch_1.bin";
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) signvote::fuzz::finding("cifar", "cannot write the temp file " + file.string());
  return file;
}

// `ds` must hold `records` images: labels (records,), pixels (records, 3072).
void check_shape(const sd::Dataset& ds, std::size_t records, const char* what) {
  if (ds.size() != records || ds.pixels.size() != records * sd::kImageBytes)
    signvote::fuzz::finding("cifar", std::string(what) + ": " + std::to_string(ds.size()) +
                                         " labels, " + std::to_string(ds.pixels.size()) +
                                         " pixel bytes for " + std::to_string(records) +
                                         " records");
  std::size_t counted = 0;
  for (std::size_t c : ds.class_counts()) counted += c;
  if (counted != records) signvote::fuzz::finding("cifar", std::string(what) + ": class counts");
}

// The directory loader over the same single file. Kept to one call per split
// so a change of load_cifar10's optional parameters needs one edit here: a
// layout argument must accept one data_batch file of any record count, or
// every input is rejected before the reader runs.
void load_directory(const fs::path& dir, std::size_t records) {
  for (sd::Split split : {sd::Split::train, sd::Split::val}) {
    try {
      const sd::Dataset ds = sd::load_cifar10(dir, split, 1, sd::Cifar10Layout::any());
      check_shape(ds, split == sd::Split::val ? 1 : records - 1, sd::split_name(split));
    } catch (const std::exception&) {
      // Rejected (e.g. fewer than 2 records): expected.
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path file = write_input(data, size);
  std::size_t records = 0;
  try {
    const sd::Dataset ds = sd::read_cifar10_file(file);
    records = size / sd::kRecordBytes;
    if (size % sd::kRecordBytes != 0)
      signvote::fuzz::finding("cifar", "accepted a file of " + std::to_string(size) + " bytes");
    check_shape(ds, records, "read_cifar10_file");
  } catch (const std::exception&) {
    return 0;  // rejected with a message: expected
  }
  load_directory(file.parent_path(), records);
  return 0;
}
