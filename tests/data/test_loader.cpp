// Normalisation, augmentation and the sharded loader (determinism, coverage,
// resume).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <set>

#include "data/loader.h"
#include "test_util.h"

using namespace signvote::data;

namespace {

constexpr std::size_t kImg = kImageBytes;  // floats per image

// Independent reference: build the padded image explicitly, crop, flip.
std::vector<std::uint8_t> reference_augment(const std::uint8_t* src, const Augment& a, int pad,
                                            PadMode mode) {
  const int side = 32 + 2 * pad;
  std::vector<std::uint8_t> padded(3 * side * side, 0), out(kImg);
  auto reflect = [](int i) { return i < 0 ? -i : (i > 31 ? 62 - i : i); };
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) {
        int sy = y - pad, sx = x - pad;
        const bool inside = sy >= 0 && sy < 32 && sx >= 0 && sx < 32;
        if (!inside && mode == PadMode::zero) continue;
        sy = reflect(sy);
        sx = reflect(sx);
        padded[(c * side + y) * side + x] = src[c * 1024 + sy * 32 + sx];
      }
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const int cx = a.flip ? 31 - x : x;
        out[c * 1024 + y * 32 + x] = padded[(c * side + y + a.dy) * side + cx + a.dx];
      }
  return out;
}

// Index of the image a no-augmentation output came from, decoded from the
// two pixels indexed_dataset() sets (with mean 0, std 1: value = v/255).
std::size_t decode_index(const float* img) {
  return static_cast<std::size_t>(std::lround(img[0] * 255.0f)) +
         256 * static_cast<std::size_t>(std::lround(img[1] * 255.0f));
}

Normalize identity_norm() { return {{0.f, 0.f, 0.f}, {1.f, 1.f, 1.f}}; }

// All batches of the loader's current epoch, flattened; counts batches.
std::vector<float> one_epoch(Loader& l, std::vector<int>* labels = nullptr, int* batches = nullptr) {
  const int b = l.options().batch;
  std::vector<float> img(b * kImg), all;
  std::vector<int> lab(b);
  int n = 0, count = 0;
  while (l.next(img.data(), lab.data(), &n)) {
    all.insert(all.end(), img.begin(), img.begin() + n * kImg);
    if (labels) labels->insert(labels->end(), lab.begin(), lab.begin() + n);
    ++count;
  }
  if (batches) *batches = count;
  return all;
}

}  // namespace

TEST_CASE("normalisation gives (v/255 - mean)/std per channel in NCHW", "[data][transform]") {
  const Dataset ds = test::indexed_dataset(5);
  for (const Normalize norm : {Normalize{}, Normalize{{0.1f, 0.5f, 0.9f}, {0.5f, 0.25f, 2.0f}}}) {
    EvalLoader eval(ds, 3, norm);
    std::vector<float> img(3 * kImg, -99.f);
    std::vector<int> lab(3);
    int n = 0;
    std::size_t seen = 0;
    while (eval.next(img.data(), lab.data(), &n)) {
      for (int j = 0; j < n; ++j) {
        const std::size_t i = seen + j;
        CHECK(lab[j] == ds.labels[i]);
        for (int c = 0; c < 3; ++c)
          for (int p = 0; p < 1024; ++p) {
            const float v = ds.pixels[i * kImg + c * 1024 + p];
            const float expect = (v / 255.0f - norm.mean[c]) / norm.std[c];
            const float got = img[j * kImg + c * 1024 + p];  // [j][c][y][x]
            if (std::fabs(got - expect) > 1e-5f * std::max(1.0f, std::fabs(expect)))
              FAIL("image " << i << " c " << c << " pixel " << p << ": " << got << " vs " << expect);
          }
      }
      seen += n;
    }
    CHECK(seen == 5);
  }
  CHECK_THROWS(PixelConverter(Normalize{{0, 0, 0}, {1, 0, 1}}));
}

TEST_CASE("augmentation matches an explicit pad / crop / flip", "[data][transform]") {
  const Dataset ds = test::indexed_dataset(1);
  const PixelConverter conv(identity_norm());
  std::vector<float> out(kImg);
  for (PadMode mode : {PadMode::zero, PadMode::reflect})
    for (int pad : {0, 2, 4})
      for (int dy = 0; dy <= 2 * pad; ++dy)
        for (int dx = 0; dx <= 2 * pad; ++dx)
          for (bool flip : {false, true}) {
            const Augment a{dx, dy, flip};
            conv.convert_augmented(ds.image(0), out.data(), a, pad, mode);
            const auto ref = reference_augment(ds.image(0), a, pad, mode);
            for (std::size_t k = 0; k < kImg; ++k)
              if (out[k] != conv.value(static_cast<int>(k / 1024), ref[k]))
                FAIL(pad_mode_name(mode) << " pad " << pad << " dx " << dx << " dy " << dy
                                         << " flip " << flip << " differs at " << k);
          }
  // Spot checks with hand-computed positions (pad 4).
  const std::uint8_t* src = ds.image(0);
  conv.convert_augmented(src, out.data(), {0, 0, false}, 4, PadMode::zero);
  CHECK(out[0] == 0.0f);                                 // top-left is padding
  CHECK(out[4 * 32 + 4] == conv.value(0, src[0]));       // src (0,0) moved to (4,4)
  conv.convert_augmented(src, out.data(), {0, 0, false}, 4, PadMode::reflect);
  CHECK(out[0] == conv.value(0, src[4 * 32 + 4]));       // reflect(-4) = 4
  conv.convert_augmented(src, out.data(), {4, 4, true}, 4, PadMode::zero);
  CHECK(out[1024 + 5 * 32 + 0] == conv.value(1, src[1024 + 5 * 32 + 31]));  // pure flip
  CHECK_THROWS(conv.convert_augmented(src, out.data(), {9, 0, false}, 4, PadMode::zero));
}

TEST_CASE("augmentation draws are deterministic and cover all offsets", "[data][transform]") {
  std::set<int> dxs, dys;
  int flips = 0;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    const Augment a = draw_augment(7, 3, i, 4);
    const Augment b = draw_augment(7, 3, i, 4);
    REQUIRE((a.dx == b.dx && a.dy == b.dy && a.flip == b.flip));
    dxs.insert(a.dx);
    dys.insert(a.dy);
    flips += a.flip;
  }
  CHECK(dxs.size() == 9);
  CHECK(dys.size() == 9);
  CHECK(*dxs.begin() == 0);
  CHECK(*dxs.rbegin() == 8);
  CHECK(flips > 850);
  CHECK(flips < 1150);
}

TEST_CASE("shards are disjoint, equal-sized and reshuffled per epoch", "[data][loader]") {
  for (std::size_t n : {96u, 100u})
    for (int w : {1, 3, 4, 7}) {
      std::set<std::uint32_t> all;
      for (int k = 0; k < w; ++k) {
        const auto mine = shard_indices(n, k, w, 11, 0);
        CHECK(mine.size() == n / w);
        for (auto i : mine) {
          CHECK(i < n);
          CHECK(all.insert(i).second);  // never seen in another shard
        }
      }
      CHECK(all.size() == (n / w) * w);  // covering up to the N mod W tail
    }
  CHECK(shard_indices(100, 0, 1, 11, 0) != shard_indices(100, 0, 1, 11, 1));
  CHECK(shard_indices(100, 0, 1, 11, 0) != shard_indices(100, 0, 1, 12, 0));
  CHECK(shard_indices(100, 1, 4, 11, 5) == shard_indices(100, 1, 4, 11, 5));
  CHECK_THROWS(shard_indices(100, 4, 4, 0, 0));
}

TEST_CASE("loader delivers exactly its shard", "[data][loader]") {
  const Dataset ds = test::indexed_dataset(300);
  LoaderOptions opt{.batch = 16, .shard_index = 2, .shard_count = 3, .seed = 5, .augment = false,
                    .drop_last = false, .norm = identity_norm()};
  Loader l(ds, opt);
  CHECK(l.samples_per_epoch() == 100);
  CHECK(l.batches_per_epoch() == 7);
  for (std::uint64_t e = 0; e < 2; ++e) {
    REQUIRE(l.epoch() == e);
    std::vector<int> labels;
    int batches = 0;
    const auto imgs = one_epoch(l, &labels, &batches);
    CHECK(batches == 7);
    const auto expect = shard_indices(300, 2, 3, 5, e);
    REQUIRE(imgs.size() == expect.size() * kImg);
    for (std::size_t j = 0; j < expect.size(); ++j) {
      CHECK(decode_index(&imgs[j * kImg]) == expect[j]);
      CHECK(labels[j] == ds.labels[expect[j]]);
    }
  }
  CHECK(l.epoch() == 2);
  opt.drop_last = true;
  CHECK(Loader(ds, opt).batches_per_epoch() == 6);
  opt.batch = 101;
  CHECK_THROWS(Loader(ds, opt));  // shard of 100 < one batch
}

TEST_CASE("augmented loader is seed-deterministic and changes pixels", "[data][loader]") {
  const Dataset ds = test::indexed_dataset(64);
  const LoaderOptions opt{.batch = 8, .seed = 42, .augment = true};
  Loader a(ds, opt), b(ds, opt);
  const auto ea = one_epoch(a), eb = one_epoch(b);
  CHECK(std::memcmp(ea.data(), eb.data(), ea.size() * sizeof(float)) == 0);

  LoaderOptions other = opt;
  other.seed = 43;
  Loader c(ds, other);
  CHECK(one_epoch(c) != ea);

  LoaderOptions plain = opt;
  plain.augment = false;
  Loader p(ds, plain);  // same order (same seed), no augmentation
  const auto ep = one_epoch(p);
  int changed = 0;
  for (std::size_t j = 0; j < 64; ++j)
    changed += !std::equal(ep.begin() + j * kImg, ep.begin() + (j + 1) * kImg, ea.begin() + j * kImg);
  CHECK(changed > 50);  // identity draw (dx=dy=4, no flip) has probability 1/162
  CHECK(one_epoch(a) != ea);  // epoch 1 differs from epoch 0
}

TEST_CASE("loader state save / restore continues bit-identically", "[data][loader]") {
  const Dataset ds = test::indexed_dataset(90);
  const LoaderOptions opt{.batch = 7, .shard_index = 1, .shard_count = 2, .seed = 9,
                          .augment = true, .pad_mode = PadMode::reflect, .drop_last = false};
  std::vector<float> img(7 * kImg), img2(7 * kImg);
  std::vector<int> lab(7), lab2(7);
  int n = 0, n2 = 0;
  for (int stop : {0, 3, 7, 15}) {  // 15 = mid epoch 2 (7 batches + 1 false per epoch)
    Loader a(ds, opt);
    for (int i = 0; i < stop; ++i) a.next(img.data(), lab.data(), &n);
    const std::string saved = a.state().to_bytes();
    Loader b(ds, opt);
    b.restore(LoaderState::from_bytes(saved));
    CHECK(b.state() == a.state());
    CHECK(b.step_in_epoch() == a.step_in_epoch());
    for (int i = 0; i < 20; ++i) {  // crosses epoch boundaries
      const bool ra = a.next(img.data(), lab.data(), &n);
      const bool rb = b.next(img2.data(), lab2.data(), &n2);
      REQUIRE(ra == rb);
      if (!ra) continue;
      REQUIRE(n == n2);
      REQUIRE(std::memcmp(img.data(), img2.data(), n * kImg * sizeof(float)) == 0);
      REQUIRE(std::equal(lab.begin(), lab.begin() + n, lab2.begin()));
    }
  }
  Loader a(ds, opt);
  LoaderOptions other = opt;
  other.seed = 10;
  Loader c(ds, other);
  CHECK_THROWS_WITH(c.restore(a.state()), Catch::Contains("seed 9"));
  CHECK_THROWS(LoaderState::from_bytes("short"));
}

TEST_CASE("loader reports epoch and step", "[data][loader]") {
  const Dataset ds = test::indexed_dataset(20);
  Loader l(ds, {.batch = 6, .augment = false, .drop_last = true});
  std::vector<float> img(6 * kImg);
  std::vector<int> lab(6);
  int n = 0;
  CHECK(l.step_in_epoch() == 0);
  for (int s = 1; s <= 3; ++s) {
    REQUIRE(l.next(img.data(), lab.data(), &n));
    CHECK(n == 6);
    CHECK(l.step_in_epoch() == static_cast<std::uint64_t>(s));
  }
  CHECK_FALSE(l.next(img.data(), lab.data(), &n));  // 2 leftover images dropped
  CHECK(l.epoch() == 1);
  CHECK(l.step_in_epoch() == 0);
}

TEST_CASE("eval loader covers the split in order, sharded by stride", "[data][loader]") {
  const Dataset ds = test::indexed_dataset(23);
  std::vector<float> img(5 * kImg);
  std::vector<int> lab(5);
  std::vector<std::size_t> seen;
  for (int k = 0; k < 3; ++k) {
    EvalLoader e(ds, 5, identity_norm(), k, 3);
    int n = 0;
    std::size_t count = 0;
    while (e.next(img.data(), lab.data(), &n))
      for (int j = 0; j < n; ++j, ++count) {
        const std::size_t idx = decode_index(&img[j * kImg]);
        CHECK(idx == k + 3 * count);
        seen.push_back(idx);
      }
    CHECK(count == e.size());
    CHECK_FALSE(e.next(img.data(), lab.data(), &n));
  }
  std::sort(seen.begin(), seen.end());
  CHECK(seen.size() == 23);
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == i);
}

TEST_CASE("re-cut over another worker count: the epoch continues, no image twice", "[data][loader]") {
  const std::size_t n = 100;
  const std::uint64_t seed = 5, epoch = 2;
  for (int W : {3, 4}) {
    for (int W2 : {2, 3, 5}) {
      // W workers took 10 images each of epoch 2: the first 10*W slots of P_2.
      std::set<std::uint32_t> seen;
      for (int k = 0; k < W; ++k) {
        const auto mine = shard_indices(n, k, W, seed, epoch);
        seen.insert(mine.begin(), mine.begin() + 10);
      }
      REQUIRE(seen.size() == 10u * W);
      const LoaderState was{seed, epoch, 10, 0, static_cast<std::uint64_t>(W), n, 5, 0};
      std::size_t rest = 0;
      for (int k = 0; k < W2; ++k) {
        const LoaderState s = reshard(was, k, W2);
        CHECK(s.offset == 10u * W);
        CHECK(s.position == 0);
        CHECK(batches_in_epoch(s, true) == (n - 10 * W) / W2 / 5);
        for (auto i : shard_indices(n, k, W2, seed, epoch, s.offset)) CHECK(seen.insert(i).second);  // never twice
        rest += (n - 10 * W) / W2;
      }
      CHECK(seen.size() == 10u * W + rest);  // only the (n - offset) mod W2 leftover sit out
      CHECK(n - seen.size() < static_cast<std::size_t>(W2));
    }
  }
  // A re-cut loader runs the short epoch, then cuts the next one from slot 0.
  const Dataset ds = test::indexed_dataset(n);
  const LoaderOptions opt{.batch = 5, .shard_index = 1, .shard_count = 2, .seed = seed, .augment = false};
  Loader l(ds, opt);
  l.restore(reshard(LoaderState{seed, 0, 10, 2, 3, n, 5, 0}, 1, 2));
  CHECK(l.state().offset == 30);
  CHECK(l.batches_per_epoch() == 7);  // (100 - 30) / 2 = 35 images
  std::vector<float> img(5 * kImg);
  std::vector<int> lab(5);
  int got = 0, batches = 0;
  while (l.next(img.data(), lab.data(), &got)) ++batches;
  CHECK(batches == 7);
  CHECK(l.state().epoch == 1);
  CHECK(l.state().offset == 0);
  CHECK(l.batches_per_epoch() == 10);
  // The 72-byte state round-trips; the 64-byte one of older checkpoints reads as offset 0.
  const LoaderState s = reshard(LoaderState{seed, 0, 10, 2, 3, n, 5, 0}, 0, 2);
  CHECK(LoaderState::from_bytes(s.to_bytes()) == s);
  std::string v1 = LoaderState{seed, 0, 10, 2, 3, n, 5, 0}.to_bytes().substr(0, 64);
  v1[7] = '\x31';  // "SVRDLST1"
  CHECK(LoaderState::from_bytes(v1) == LoaderState{seed, 0, 10, 2, 3, n, 5, 0});
  CHECK_THROWS_WITH(reshard(LoaderState{seed, 0, 40, 0, 3, n, 5, 0}, 0, 2), Catch::Contains("images taken"));
}
