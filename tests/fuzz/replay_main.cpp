// Deterministic replay of fuzz inputs without libFuzzer: the normal (gcc)
// build links one harness with this main and ctest runs it over the seed
// corpus and the saved crash inputs.
//
// Usage: fuzz_<name>_replay DIR...
// Every regular file of every DIR, in sorted path order, is passed once to
// LLVMFuzzerTestOneInput. Dotfiles (.gitkeep) and README* files are skipped.
// Exit status: 0 when every input ran; 2 when a DIR is missing, not a
// directory or has no entries at all (an empty folder cannot come from git,
// so it means a broken checkout), or when no DIR held a single input. A
// finding aborts (or crashes) inside the harness, which fails the test.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
namespace fs = std::filesystem;

bool is_placeholder(const std::string& name) {
  return name.empty() || name[0] == '.' || name.rfind("README", 0) == 0;
}

// The inputs of `dir`, sorted; false (with a message) if `dir` is unusable.
bool list_inputs(const fs::path& dir, std::vector<fs::path>& out) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    std::fprintf(stderr, "replay: %s: missing or not a directory\n", dir.c_str());
    return false;
  }
  std::size_t entries = 0;
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++entries;
    if (e.is_regular_file() && !is_placeholder(e.path().filename().string()))
      found.push_back(e.path());
  }
  if (entries == 0) {
    std::fprintf(stderr, "replay: %s: empty directory\n", dir.c_str());
    return false;
  }
  std::sort(found.begin(), found.end());
  std::printf("replay: %s: %zu input(s)\n", dir.c_str(), found.size());
  out.insert(out.end(), found.begin(), found.end());
  return true;
}

// Runs one file through the harness. The bytes live in a heap block of
// exactly `size` bytes so an overread is caught when run under ASan.
void run_one(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  auto buf = std::make_unique<std::uint8_t[]>(bytes.size() + (bytes.empty() ? 1 : 0));
  std::copy(bytes.begin(), bytes.end(), buf.get());
  // Named before the call: if the harness aborts, the log shows which input.
  std::printf("replay: running %s (%zu bytes)\n", file.c_str(), bytes.size());
  std::fflush(stdout);
  LLVMFuzzerTestOneInput(buf.get(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR...\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> inputs;
  bool ok = true;
  for (int i = 1; i < argc; ++i) ok = list_inputs(argv[i], inputs) && ok;
  if (!ok) return 2;
  if (inputs.empty()) {
    std::fprintf(stderr, "replay: no inputs in any directory\n");
    return 2;
  }
  for (const auto& f : inputs) run_one(f);
  std::printf("replay: ran %zu input(s), no findings\n", inputs.size());
  return 0;
}
