// make_cifar_fixture DIR N: writes DIR/data_batch_1.bin with N records in the
// official CIFAR-10 binary format (1 label byte + 3072 pixel bytes) and
// DIR/test_batch.bin with N/5. Labels cycle 0..9; each class has its own mean
// colour plus seeded noise, so a small network can learn it in a few steps.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {
void write_batch(const std::filesystem::path& file, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-40, 40);
  std::vector<unsigned char> rec(3073);
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (!f) {
    std::perror(file.c_str());
    std::exit(1);
  }
  for (int i = 0; i < n; ++i) {
    const int label = i % 10;
    rec[0] = static_cast<unsigned char>(label);
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) {
        const int base = 40 + 20 * ((label + 3 * c) % 10);
        rec[1 + c * 1024 + p] = static_cast<unsigned char>(std::clamp(base + noise(rng), 0, 255));
      }
    std::fwrite(rec.data(), 1, rec.size(), f);
  }
  std::fclose(f);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_cifar_fixture DIR N\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const int n = std::stoi(argv[2]);
  std::filesystem::create_directories(dir);
  write_batch(dir / "data_batch_1.bin", n, 1);
  write_batch(dir / "test_batch.bin", n / 5, 2);
  return 0;
}
