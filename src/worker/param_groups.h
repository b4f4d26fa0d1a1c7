// The PyTorch workers' parameter tensors and groups (model.tensors,
// optimizer.groups; protocol.h, "Parameter tensors") and what one step()
// says of them: which tensors have a gradient on this worker, and each
// group's lr and weight decay (a torch LR scheduler may change them at any
// step). The C++ workers have none: inactive, and the round is as before.
#pragma once

#include "comm/vote_tail.h"
#include "signvote/config.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace signvote::worker {

// Coordinates [offset, offset + length) of the flat parameter vector.
struct Extent {
  size_t offset = 0, length = 0;
};

// x[offset, offset + length) -= lr (s + wd x): the fused apply of one range.
struct ApplyRange {
  size_t offset = 0, length = 0;
  float lr = 0, wd = 0;
};

class ParamGroups {
 public:
  explicit ParamGroups(const Config& cfg);
  bool active() const { return tail_.active(); }
  size_t tensors() const { return tail_.tensors(); }
  size_t groups() const { return lr_.size(); }
  // This step's inputs: present (T,) nonzero = a gradient; lr, wd (G,).
  // Throws std::invalid_argument on a wrong length or a value that is not
  // finite and >= 0, naming the group.
  void set_step(std::span<const uint8_t> present, std::span<const float> lr, std::span<const float> wd);
  // Every tensor present, each group's configured lr and weight decay.
  void set_default_step();
  // The VOTE tail (comm/vote_tail.h): presence bits, then (lr, wd) pairs.
  std::span<const uint32_t> tail_words() const { return words_; }
  // The tensors this worker has no gradient for: their momentum is kept.
  const std::vector<Extent>& absent() const { return absent_; }
  // What to apply of [0, d): the tensors some worker voted on (voted: the
  // RESULT's tail bits), each with its group's lr (under the server's
  // schedule at `step`, `progress`) and weight decay, neighbours merged.
  std::vector<ApplyRange> apply_ranges(const uint32_t* voted, uint64_t step, double progress) const;

 private:
  const OptimizerConfig& opt_;
  comm::VoteTail tail_;
  std::vector<size_t> group_of_;  // tensor -> group
  std::vector<float> lr_, wd_;    // this step's
  std::vector<float> lr0_, wd0_;  // the configured ones
  std::vector<uint32_t> words_;   // the VOTE tail
  std::vector<Extent> absent_;
};

}  // namespace signvote::worker
