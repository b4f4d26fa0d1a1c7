#include "data/loader.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "data/rng.h"

namespace signvote::data {
namespace {

constexpr std::uint64_t kStateTagV1 = 0x3154534C44525653ULL;  // "SVRDLST1" little-endian: tag + 7 fields
constexpr std::uint64_t kStateTag = 0x3254534C44525653ULL;    // "SVRDLST2": tag + 7 fields + offset
constexpr std::size_t kStateWordsV1 = 8;
constexpr std::size_t kStateWords = 9;

void check_shard(int index, int count) {
  if (count < 1 || index < 0 || index >= count)
    throw std::invalid_argument("shard " + std::to_string(index) + " of " +
                                std::to_string(count) + " is invalid (need 0 <= index < count)");
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::uint64_t get_u64(std::string_view in, std::size_t word) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[word * 8 + i])) << (8 * i);
  return v;
}

}  // namespace

std::string LoaderState::to_bytes() const {
  std::string out;
  out.reserve(kStateWords * 8);
  for (std::uint64_t v : {kStateTag, seed, epoch, position, shard_index, shard_count,
                          dataset_size, batch, offset})
    put_u64(out, v);
  return out;
}

LoaderState LoaderState::from_bytes(std::string_view bytes) {
  const bool v1 = bytes.size() == kStateWordsV1 * 8 && get_u64(bytes, 0) == kStateTagV1;
  if (!v1 && (bytes.size() != kStateWords * 8 || get_u64(bytes, 0) != kStateTag))
    throw std::runtime_error("loader state: not a signvote loader state (" +
                             std::to_string(bytes.size()) + " bytes)");
  LoaderState s;
  s.seed = get_u64(bytes, 1);
  s.epoch = get_u64(bytes, 2);
  s.position = get_u64(bytes, 3);
  s.shard_index = get_u64(bytes, 4);
  s.shard_count = get_u64(bytes, 5);
  s.dataset_size = get_u64(bytes, 6);
  s.batch = get_u64(bytes, 7);
  s.offset = v1 ? 0 : get_u64(bytes, 8);
  return s;
}

std::vector<std::uint32_t> shard_indices(std::size_t n, int shard_index, int shard_count,
                                         std::uint64_t seed, std::uint64_t epoch, std::uint64_t offset) {
  check_shard(shard_index, shard_count);
  if (offset > n) throw std::invalid_argument("shard offset " + std::to_string(offset) + " is past the epoch's " +
                                              std::to_string(n) + " images");
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("dataset too large for 32-bit indices");
  std::vector<std::uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0u);
  rng::Stream s(rng::stream_key(seed, rng::kTagPermutation, epoch));
  for (std::size_t i = n; i > 1; --i)  // Fisher-Yates, i-1 swaps with [0, i)
    std::swap(perm[i - 1], perm[s.below(i)]);
  const auto w = static_cast<std::size_t>(shard_count);
  std::vector<std::uint32_t> mine((n - offset) / w);
  for (std::size_t j = 0; j < mine.size(); ++j) mine[j] = perm[offset + shard_index + j * w];
  return mine;
}

LoaderState reshard(const LoaderState& s, int shard_index, int shard_count) {
  check_shard(shard_index, shard_count);
  LoaderState out = s;
  out.offset = s.offset + s.position * s.shard_count;  // lock-step: every shard delivered `position`
  out.position = 0;
  out.shard_index = static_cast<std::uint64_t>(shard_index);
  out.shard_count = static_cast<std::uint64_t>(shard_count);
  if (out.offset > s.dataset_size)
    throw std::invalid_argument("loader state: " + std::to_string(out.offset) + " images taken of an epoch of " +
                                std::to_string(s.dataset_size));
  return out;
}

Loader::Loader(const Dataset& data, LoaderOptions options)
    : data_(data), opt_(options), conv_(options.norm) {
  check_shard(opt_.shard_index, opt_.shard_count);
  if (opt_.batch < 1) throw std::invalid_argument("loader batch must be >= 1");
  if (opt_.augment) draw_augment(0, 0, 0, opt_.pad);  // validates pad
  start_epoch(0);
  if (order_.empty() || (opt_.drop_last && order_.size() < static_cast<std::size_t>(opt_.batch)))
    throw std::invalid_argument(
        "loader shard " + std::to_string(opt_.shard_index) + "/" +
        std::to_string(opt_.shard_count) + " of " + data.source + " has " +
        std::to_string(order_.size()) + " images, fewer than one batch of " +
        std::to_string(opt_.batch));
}

std::uint64_t batches_in_epoch(const LoaderState& s, bool drop_last) {
  const std::uint64_t images = (s.dataset_size - std::min(s.offset, s.dataset_size)) / std::max<std::uint64_t>(s.shard_count, 1);
  const std::uint64_t b = std::max<std::uint64_t>(s.batch, 1);
  return drop_last ? images / b : (images + b - 1) / b;
}

void Loader::start_epoch(std::uint64_t e, std::uint64_t offset) {
  epoch_ = e;
  offset_ = offset;
  position_ = 0;
  order_ = shard_indices(data_.size(), opt_.shard_index, opt_.shard_count, opt_.seed, e, offset);
}

bool Loader::next(float* images, int* labels, int* n) {
  const auto batch = static_cast<std::size_t>(opt_.batch);
  const std::size_t take = std::min(batch, order_.size() - position_);
  if (take == 0 || (opt_.drop_last && take < batch)) {
    start_epoch(epoch_ + 1);
    return false;
  }
  for (std::size_t j = 0; j < take; ++j) {
    const std::uint32_t idx = order_[position_ + j];
    float* dst = images + j * kImageBytes;
    labels[j] = data_.labels[idx];
    if (opt_.augment)
      conv_.convert_augmented(data_.image(idx), dst,
                              draw_augment(opt_.seed, epoch_, idx, opt_.pad), opt_.pad,
                              opt_.pad_mode);
    else
      conv_.convert(data_.image(idx), dst);
  }
  position_ += take;
  *n = static_cast<int>(take);
  return true;
}

std::uint64_t Loader::step_in_epoch() const {
  return (position_ + opt_.batch - 1) / opt_.batch;  // the last batch may be partial
}

std::size_t Loader::batches_per_epoch() const {
  const auto batch = static_cast<std::size_t>(opt_.batch);
  return opt_.drop_last ? order_.size() / batch : (order_.size() + batch - 1) / batch;
}

LoaderState Loader::state() const {
  return {opt_.seed,
          epoch_,
          position_,
          static_cast<std::uint64_t>(opt_.shard_index),
          static_cast<std::uint64_t>(opt_.shard_count),
          data_.size(),
          static_cast<std::uint64_t>(opt_.batch),
          offset_};
}

void Loader::restore(const LoaderState& s) {
  const LoaderState mine = state();
  if (s.seed != mine.seed || s.shard_index != mine.shard_index ||
      s.shard_count != mine.shard_count || s.dataset_size != mine.dataset_size ||
      s.batch != mine.batch)
    throw std::invalid_argument(
        "loader state does not match this loader (saved seed " + std::to_string(s.seed) +
        ", shard " + std::to_string(s.shard_index) + "/" + std::to_string(s.shard_count) +
        ", batch " + std::to_string(s.batch) + ", " + std::to_string(s.dataset_size) +
        " images)");
  if (s.offset > s.dataset_size)
    throw std::invalid_argument("loader state offset " + std::to_string(s.offset) + " is past the end of the epoch");
  if (s.epoch != epoch_ || s.offset != offset_) start_epoch(s.epoch, s.offset);
  if (s.position > order_.size())
    throw std::invalid_argument("loader state position " + std::to_string(s.position) +
                                " is past the end of the epoch");
  position_ = s.position;
}

EvalLoader::EvalLoader(const Dataset& data, int batch, Normalize norm, int shard_index,
                       int shard_count)
    : data_(data), batch_(batch), conv_(norm),
      shard_index_(static_cast<std::size_t>(shard_index)),
      shard_count_(static_cast<std::size_t>(shard_count)) {
  check_shard(shard_index, shard_count);
  if (batch < 1) throw std::invalid_argument("eval batch must be >= 1");
}

std::size_t EvalLoader::size() const {
  const std::size_t n = data_.size();
  return n > shard_index_ ? (n - shard_index_ + shard_count_ - 1) / shard_count_ : 0;
}

bool EvalLoader::next(float* images, int* labels, int* n) {
  const std::size_t take = std::min(static_cast<std::size_t>(batch_), size() - position_);
  if (take == 0) return false;
  for (std::size_t j = 0; j < take; ++j) {
    const std::size_t idx = shard_index_ + (position_ + j) * shard_count_;
    labels[j] = data_.labels[idx];
    conv_.convert(data_.image(idx), images + j * kImageBytes);
  }
  position_ += take;
  *n = static_cast<int>(take);
  return true;
}

}  // namespace signvote::data
