// CIFAR-10 reader for the official binary format ("CIFAR-10 binary version",
// https://www.cs.toronto.edu/~kriz/cifar.html) and the train/val/test splits.
//
// A record is 3073 bytes: 1 label byte (0..9) + 3072 pixel bytes = 1024 R,
// 1024 G, 1024 B, each plane row-major 32x32. Images are kept as uint8 in
// exactly that CHW order (50,000 x 3072 B = 150 MB) and converted to float per
// batch by the loader (data/loader.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace signvote::data {

inline constexpr int kImageSide = 32;                              // pixels
inline constexpr int kChannels = 3;                                // R, G, B
inline constexpr int kPlanePixels = kImageSide * kImageSide;       // 1024
inline constexpr int kImageBytes = kChannels * kPlanePixels;       // 3072
inline constexpr int kRecordBytes = 1 + kImageBytes;               // 3073
inline constexpr int kNumClasses = 10;
inline constexpr std::size_t kDefaultValCount = 5000;

// An in-memory image set. Image i occupies pixels[i*3072, (i+1)*3072) in CHW
// order (channel plane, then row, then column); labels[i] in 0..9.
struct Dataset {
  std::vector<std::uint8_t> pixels;  // (size(), 3, 32, 32) uint8
  std::vector<std::uint8_t> labels;  // (size(),) class ids 0..9
  std::string source;                // human-readable origin, for logs

  std::size_t size() const { return labels.size(); }
  const std::uint8_t* image(std::size_t i) const {
    return pixels.data() + i * static_cast<std::size_t>(kImageBytes);
  }
  // Number of images per class, (10,).
  std::array<std::size_t, kNumClasses> class_counts() const;
};

enum class Split { train, val, test };

// The training files a directory must hold. The official CIFAR-10 binary
// set is data_batch_1..5.bin with 10,000 records each; a smaller data set in
// the same format (test fixtures) names its own shape. files = 0 accepts
// whatever data_batch_*.bin files exist, with any record counts (tools).
struct Cifar10Layout {
  std::size_t files = 5;                 // data_batch_1 .. data_batch_<files>.bin, each required
  std::size_t records_per_file = 10000;  // exact records in each of them (0 = any)
  static Cifar10Layout any() { return {0, 0}; }
};

// "train" | "val" | "test"; parse_split throws std::invalid_argument naming
// the bad value.
const char* split_name(Split s);
Split parse_split(std::string_view name);

// The training files of a CIFAR-10 directory: every data_batch_<N>.bin
// (N decimal), sorted by N numerically (so _10 follows _9). Throws
// std::runtime_error if `dir` is missing / not a directory or holds none.
std::vector<std::filesystem::path> cifar10_train_files(const std::filesystem::path& dir);

// Loads one split of a CIFAR-10 directory.
//  train: all training records except the last `val_count` (in file order:
//         data_batch_1 first, records in file order).
//  val:   the last `val_count` training records (val_count >= 1).
//  test:  test_batch.bin (val_count ignored); error if absent.
// Only the records of the split are read. Throws std::runtime_error, one line
// naming the file or directory: missing directory, no data_batch files, a
// file of `layout` missing or not holding exactly its records (empty, cut at
// a record boundary), an unexpected data_batch file, size not a multiple of
// 3073, label > 9, unreadable file, val_count too large.
Dataset load_cifar10(const std::filesystem::path& dir, Split split,
                     std::size_t val_count = kDefaultValCount, const Cifar10Layout& layout = {});

// All records of one CIFAR-format file (same checks as above).
Dataset read_cifar10_file(const std::filesystem::path& file);

}  // namespace signvote::data
