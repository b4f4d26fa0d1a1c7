#include "worker/param_groups.h"

#include "config/run_plan.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace signvote::worker {

ParamGroups::ParamGroups(const Config& cfg) : opt_(cfg.optimizer), tail_(vote_tail(cfg)) {
  if (!active()) return;
  const auto& sizes = cfg.optimizer.groups;
  if (sizes.empty()) group_of_.assign(tail_.tensors(), 0);
  for (size_t g = 0; g < sizes.size(); ++g) group_of_.insert(group_of_.end(), static_cast<size_t>(sizes[g]), g);
  for (double v : group_lrs(cfg)) lr0_.push_back(static_cast<float>(v));
  for (double v : group_weight_decays(cfg)) wd0_.push_back(static_cast<float>(v));
  lr_ = lr0_, wd_ = wd0_;
  words_.assign(tail_.up_words(), 0u);
  set_default_step();
}

void ParamGroups::set_default_step() {
  if (!active()) return;
  const std::vector<uint8_t> all(tensors(), 1);
  set_step(all, lr0_, wd0_);
}

void ParamGroups::set_step(std::span<const uint8_t> present, std::span<const float> lr, std::span<const float> wd) {
  if (present.size() != tensors() || lr.size() != groups() || wd.size() != groups())
    throw std::invalid_argument(fmt::format("step: {} presence flags, {} lrs and {} weight decays, but the job has {} "
                                            "tensors in {} groups", present.size(), lr.size(), wd.size(), tensors(), groups()));
  for (size_t g = 0; g < groups(); ++g)
    if (!(std::isfinite(lr[g]) && lr[g] >= 0 && std::isfinite(wd[g]) && wd[g] >= 0))
      throw std::invalid_argument(fmt::format("parameter group {}: lr {} and weight_decay {} must be finite and >= 0", g,
                                              lr[g], wd[g]));
  std::fill(words_.begin(), words_.end(), 0u);
  absent_.clear();
  for (size_t t = 0; t < tensors(); ++t) {
    if (present[t]) {
      words_[t / 32] |= 1u << (t % 32);
      continue;
    }
    const auto& r = tail_.tensor(t);
    if (!absent_.empty() && absent_.back().offset + absent_.back().length == r.offset) absent_.back().length += r.length;
    else absent_.push_back({r.offset, r.length});
  }
  uint32_t* pairs = words_.data() + tail_.presence_words();
  for (size_t g = 0; g < groups(); ++g) {
    lr_[g] = lr[g], wd_[g] = wd[g];
    std::memcpy(pairs + 2 * g, &lr_[g], 4);
    std::memcpy(pairs + 2 * g + 1, &wd_[g], 4);
  }
}

std::vector<ApplyRange> ParamGroups::apply_ranges(const uint32_t* voted, uint64_t step, double progress) const {
  std::vector<float> lr(groups());
  for (size_t g = 0; g < groups(); ++g)
    lr[g] = schedule_drives_lr(opt_) ? static_cast<float>(lr_at(opt_, lr_[g], step, progress)) : lr_[g];
  std::vector<ApplyRange> out;
  for (size_t t = 0; t < tensors(); ++t) {
    if (!((voted[t / 32] >> (t % 32)) & 1u)) continue;  // nobody had a gradient: no move, no decay
    const auto& r = tail_.tensor(t);
    const size_t g = group_of_[t];
    ApplyRange* last = out.empty() ? nullptr : &out.back();
    if (last && last->offset + last->length == r.offset && last->lr == lr[g] && last->wd == wd_[g]) last->length += r.length;
    else out.push_back({r.offset, r.length, lr[g], wd_[g]});
  }
  return out;
}

}  // namespace signvote::worker
