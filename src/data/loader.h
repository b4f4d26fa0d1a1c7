// Deterministic, sharded mini-batch loaders over a Dataset.
//
// Sharding (training): every epoch e, all workers compute the same
// permutation P_e of [0, N) from (seed, e) (Fisher-Yates driven by the
// counter-based RNG of data/rng.h). Worker k of W takes the slots
// k, k+W, k+2W, ... of P_e, FLOOR(N/W) images each: shards are disjoint, all
// workers see the same number of images and therefore the same number of
// steps per epoch (synchronous majority vote needs lock-step workers). The
// N mod W images at the tail of P_e sit out that epoch only; P_e changes every
// epoch. Augmentation of image i in epoch e depends only on (seed, e, i).
//
// Because nothing random is stateful, LoaderState = (seed, epoch, position,
// shard, dataset size, offset) captures a loader completely: restore() into a
// loader built with the same options continues bit-identically.
//
// Re-cutting (a run resumed with another worker count): the W workers move in
// lock-step, so after `position` images of epoch e they have together taken
// exactly the first position*W slots of P_e. reshard() hands the rest of P_e
// to the W' new shards (slots offset + k' + j*W', offset = those already
// taken): no image of the epoch is repeated or skipped, up to the
// (N - offset) mod W' left over; the next epoch is cut over W' from slot 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/cifar10.h"
#include "data/transform.h"

namespace signvote::data {

struct LoaderOptions {
  int batch = 128;           // images per batch (per worker)
  int shard_index = 0;       // this worker, [0, shard_count)
  int shard_count = 1;       // number of workers W
  std::uint64_t seed = 0;    // shared by all workers
  bool augment = true;       // pad + random crop + horizontal flip
  PadMode pad_mode = PadMode::zero;
  bool drop_last = true;     // skip a final partial batch
  int pad = 4;               // pixels of padding before the 32x32 crop
  Normalize norm{};          // per-channel mean / std
};

// Everything needed to resume a Loader. Plain data; to_bytes() is a fixed
// 72-byte little-endian encoding for a checkpoint blob (the 64-byte one of
// checkpoints written before `offset` existed is still read, as offset 0).
struct LoaderState {
  std::uint64_t seed = 0;
  std::uint64_t epoch = 0;
  std::uint64_t position = 0;      // images of this shard delivered this epoch
  std::uint64_t shard_index = 0;
  std::uint64_t shard_count = 1;
  std::uint64_t dataset_size = 0;
  std::uint64_t batch = 0;
  std::uint64_t offset = 0;        // slots of P_epoch taken before this sharding began (a re-cut; else 0)

  std::string to_bytes() const;
  // Throws std::runtime_error on a wrong size or tag.
  static LoaderState from_bytes(std::string_view bytes);
  bool operator==(const LoaderState&) const = default;
};

// The indices (into the dataset) worker `shard_index` of `shard_count` visits
// in `epoch`, in order: P_e[o+k], P_e[o+k+W], ..., FLOOR((n-o)/W) of them
// (o = offset, the slots taken before a re-cut; 0 <= o <= n).
std::vector<std::uint32_t> shard_indices(std::size_t n, int shard_index, int shard_count,
                                         std::uint64_t seed, std::uint64_t epoch, std::uint64_t offset = 0);

// The state worker `shard_index` of `shard_count` continues from when every
// worker of `s`'s sharding stopped at `s` (see "Re-cutting" above). Throws
// std::invalid_argument for a bad shard.
LoaderState reshard(const LoaderState& s, int shard_index, int shard_count);

// Batches in the epoch `s` is in (its re-cut part only, if it was re-cut).
std::uint64_t batches_in_epoch(const LoaderState& s, bool drop_last);

// Shuffled, sharded, augmented training batches. Holds a reference: `data`
// must outlive the Loader.
class Loader {
 public:
  // Throws std::invalid_argument for bad options or a shard too small to
  // give one batch.
  Loader(const Dataset& data, LoaderOptions options);

  // Writes the next batch: images (batch, 3, 32, 32) float NCHW, labels
  // (batch,), *n = images written (< batch only for a final partial batch
  // with drop_last = false; slots past *n are left untouched). At the end of
  // an epoch returns false ONCE without writing, and the following call starts
  // the next epoch, so `while (loader.next(...))` walks one epoch.
  bool next(float* images, int* labels, int* n);

  std::uint64_t epoch() const { return epoch_; }
  // Batches already delivered in the current epoch.
  std::uint64_t step_in_epoch() const;
  std::size_t samples_per_epoch() const { return order_.size(); }
  std::size_t batches_per_epoch() const;
  const LoaderOptions& options() const { return opt_; }

  LoaderState state() const;
  // Throws std::invalid_argument if the state was saved with a different
  // seed, shard, batch or dataset size (it would not continue identically).
  void restore(const LoaderState& s);

 private:
  void start_epoch(std::uint64_t e, std::uint64_t offset = 0);

  const Dataset& data_;
  LoaderOptions opt_;
  PixelConverter conv_;
  std::vector<std::uint32_t> order_;  // this shard's indices for epoch_
  std::uint64_t epoch_ = 0;
  std::uint64_t offset_ = 0;  // LoaderState::offset of epoch_
  std::size_t position_ = 0;
};

// Evaluation batches: dataset order, no augmentation, no shuffling, partial
// final batch kept. Optional sharding by stride (worker k: k, k+W, ...;
// covers every image once; shard sizes differ by at most one).
class EvalLoader {
 public:
  EvalLoader(const Dataset& data, int batch, Normalize norm = {}, int shard_index = 0,
             int shard_count = 1);
  // Same contract as Loader::next, but returns false at the end every time
  // until reset().
  bool next(float* images, int* labels, int* n);
  void reset() { position_ = 0; }
  std::size_t size() const;  // images in this shard

 private:
  const Dataset& data_;
  int batch_;
  PixelConverter conv_;
  std::size_t shard_index_, shard_count_;
  std::size_t position_ = 0;  // images of this shard delivered
};

}  // namespace signvote::data
