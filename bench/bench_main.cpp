// build/signvote-bench SUBCOMMAND [options] --json
// Subcommands: kernels (pack/apply/tally vs memory bandwidth), comm (one vote
// round vs fp32 all-reduce, under mpirun), step (one worker's training step).
#include "bench_registry.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
  CLI::App app{"signvote-bench: speed benchmarks that print JSON"};
  app.require_subcommand(1);
  for (auto reg : signvote::bench::bench_registry()) reg(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  return 0;
}
