// Manual check of a real CIFAR-10 directory (not a test): per-class counts of
// the train / val splits, load time, one epoch of the augmented loader and
// hash_floats / crc32 throughput.
// Usage: data_cifar10_stats DIR [val_count=5000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "data/cifar10.h"
#include "formats/crc32.h"
#include "formats/hash.h"
#include "data/loader.h"

using namespace signvote::data;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

static void print_counts(const Dataset& ds, double secs) {
  std::printf("%-45s %6zu images in %.3f s; per class:", ds.source.c_str(), ds.size(), secs);
  for (std::size_t c : ds.class_counts()) std::printf(" %zu", c);
  std::printf("\n");
}

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [val_count]\n", argv[0]);
    return 2;
  }
  const std::size_t val_count = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 5000;
  auto t0 = Clock::now();
  const Dataset train = load_cifar10(argv[1], Split::train, val_count);
  print_counts(train, seconds_since(t0));
  if (val_count > 0) {
    t0 = Clock::now();
    const Dataset val = load_cifar10(argv[1], Split::val, val_count);
    print_counts(val, seconds_since(t0));
  }

  Loader loader(train, {.batch = 128, .seed = 1, .augment = true});
  std::vector<float> images(128 * kImageBytes);
  std::vector<int> labels(128);
  int n = 0, batches = 0;
  t0 = Clock::now();
  while (loader.next(images.data(), labels.data(), &n)) ++batches;
  std::printf("augmented epoch: %d batches of 128 in %.3f s\n", batches, seconds_since(t0));

  std::vector<float> big(64u << 20, 1.5f);  // 256 MB
  t0 = Clock::now();
  volatile std::uint64_t h = hash_floats(big);
  const double th = seconds_since(t0);
  t0 = Clock::now();
  volatile std::uint32_t c = crc32(big.data(), big.size() * 4);
  const double tc = seconds_since(t0);
  (void)h;
  (void)c;
  std::printf("hash_floats %.2f GB/s, crc32 %.2f GB/s\n", 0.268 / th, 0.268 / tc);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
