// Subcommand registry for build/signvote-bench. Each bench_*.cpp adds its
// subcommand with a file-scope `static RegisterBench reg(&add_my_bench);`.
#pragma once
#include <CLI/CLI.hpp>
#include <vector>

namespace signvote::bench {

using BenchRegistrar = void (*)(CLI::App& app);

inline std::vector<BenchRegistrar>& bench_registry() {
  static std::vector<BenchRegistrar> registry;
  return registry;
}

struct RegisterBench {
  explicit RegisterBench(BenchRegistrar f) { bench_registry().push_back(f); }
};

}  // namespace signvote::bench
