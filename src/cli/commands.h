// Subcommands of build/signvote other than `train` (single process, no mpirun).
#pragma once

#include <string>

namespace signvote::cli {

struct EvalArgs {
  std::string checkpoint;  // checkpoint file (or a directory with latest.ckpt)
  std::string data;        // CIFAR-10 directory ("" = the data.path stored in the checkpoint)
  std::string split = "val";
  int threads = 1;
  bool json = false;
};
// Prints the accuracy of the checkpoint's network on the split; returns the exit code.
int run_eval(const EvalArgs& a);

// Prints each section of a checkpoint: name, size, 64-bit hash.
int run_inspect(const std::string& checkpoint);

}  // namespace signvote::cli
