// Subcommands of build/signvote other than `train` (single process, no mpirun).
#pragma once

#include <string>

namespace signvote::cli {

struct EvalArgs {
  std::string checkpoint;  // checkpoint file (or a directory with latest.ckpt)
  std::string data;        // CIFAR-10 directory ("" = the data.path stored in the checkpoint)
  std::string split = "val";
  int threads = 1;
  std::string device = "cpu";  // cpu | cuda (device 0), whatever device the run trained on
  bool json = false;
};
// Prints the accuracy of the checkpoint's network on the split; returns the exit code.
int run_eval(const EvalArgs& a);

// Prints the CUDA devices this process sees, or why there are none
// (json: one line {"cuda_built": b, "count": n, "why": s, "devices": [..]}).
void print_devices(bool json);

// Prints each section of a checkpoint: name, size, 64-bit hash.
int run_inspect(const std::string& checkpoint);

}  // namespace signvote::cli
