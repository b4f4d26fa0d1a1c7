// Shared fixtures for the data tests: a self-deleting temp directory and a
// writer for tiny CIFAR-format files with a known pixel pattern.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "data/cifar10.h"

namespace signvote::data::test {

// A fresh, unique directory under the system temp dir, removed on scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("signvote-data-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

// Known pixel value of image `global` (its index across all files of the
// fixture) at channel c, row y, column x: distinct enough that any layout
// mix-up (channel / row / column / image) shows.
inline std::uint8_t pixel(std::size_t global, int c, int y, int x) {
  return static_cast<std::uint8_t>((global * 131 + c * 89 + y * 37 + x * 5 + (x * y) % 7) & 0xFF);
}
inline std::uint8_t label_of(std::size_t global) { return static_cast<std::uint8_t>((global * 7 + 3) % 10); }

// Writes records [first, first+count) in the official layout: label byte,
// then 1024 R, 1024 G, 1024 B bytes, each plane row-major.
inline void write_cifar(const std::filesystem::path& file, std::size_t first, std::size_t count) {
  std::ofstream out(file, std::ios::binary);
  for (std::size_t i = first; i < first + count; ++i) {
    out.put(static_cast<char>(label_of(i)));
    for (int c = 0; c < kChannels; ++c)
      for (int y = 0; y < kImageSide; ++y)
        for (int x = 0; x < kImageSide; ++x) out.put(static_cast<char>(pixel(i, c, y, x)));
  }
}

inline void write_bytes(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
}

inline std::string read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// In-memory dataset of n images whose pixels encode their index:
// R(0,0) = i % 256, R(0,1) = i / 256 (the rest follows pixel()).
inline Dataset indexed_dataset(std::size_t n) {
  Dataset ds;
  ds.source = "indexed";
  for (std::size_t i = 0; i < n; ++i) {
    ds.labels.push_back(label_of(i));
    for (int c = 0; c < kChannels; ++c)
      for (int y = 0; y < kImageSide; ++y)
        for (int x = 0; x < kImageSide; ++x) ds.pixels.push_back(pixel(i, c, y, x));
    ds.pixels[i * kImageBytes + 0] = static_cast<std::uint8_t>(i % 256);
    ds.pixels[i * kImageBytes + 1] = static_cast<std::uint8_t>(i / 256);
  }
  return ds;
}

}  // namespace signvote::data::test
