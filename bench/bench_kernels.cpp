// signvote-bench kernels: CPU sign kernels vs the memory-bandwidth limit.
//
//   build/signvote-bench kernels --dim 11173962 --workers 27 --json [--isa avx512] [--reps 15]
//
// Single-threaded. Every timed call starts cold: a 64 MiB buffer (2x the
// 32 MiB L3) is read between calls, outside the timed region. Buffers are
// allocated and touched once up front (page faults are not timed). Medians.
//   read_GBps            float-sum over x (dim,) = the read-bandwidth limit
//   pack_GBps            dim*4 bytes of float input / pack time
//   momentum_pack_GBps   dim*4 / time (traffic: m read+write, g read = 3x)
//   apply_GBps           dim*4 / time (traffic: x read+write = 2x, + bits)
//   tally_ms             majority of `workers` packed vectors (wire-padded rows)
//   tally_read_ms        time to just read those same packed vectors
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench_registry.h"
#include "core/resources.h"
#include "signvote/sign_kernels.h"

namespace {

using signvote::kernels::SignOps;

struct KernelsBenchOptions {
  std::size_t dim = 11173962;  // ResNet-18 on CIFAR-10 parameter count
  std::size_t workers = 27;
  std::string isa;  // empty: best available
  int reps = 15;
  std::size_t offset = 0;  // floats past 64-byte alignment for x, m, g
  bool json = false;
};

// RAII 64-byte-aligned, zero-filled array of n T (zero-fill = pages touched now).
template <class T>
class AlignedArray {
 public:
  explicit AlignedArray(std::size_t n) : size_(n) {
    const std::size_t bytes = (n * sizeof(T) + 63) / 64 * 64 + 64;
    ptr_.reset(static_cast<T*>(std::aligned_alloc(64, bytes)));
    if (!ptr_) throw std::bad_alloc();
    std::fill(ptr_.get(), ptr_.get() + bytes / sizeof(T), T{});
  }
  T* data() { return ptr_.get(); }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> ptr_;
  std::size_t size_;
};

volatile float g_float_sink = 0.0f;  // keeps the read loops observable
volatile std::uint32_t g_word_sink = 0;

// Plain vectorised read of x (n,): 64 independent float accumulators (the
// compiler vectorises across them without reassociation; 8 ymm chains hide
// the add latency). AVX2 clone where available: 32-byte loads read faster
// here than SSE2's 16-byte ones, and the baseline must be the real limit.
__attribute__((noinline, target_clones("avx2", "default"))) float read_floats(const float* x, std::size_t n) {
  float acc[64] = {};
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    for (int j = 0; j < 64; ++j) acc[j] += x[i + j];
  }
  for (; i < n; ++i) acc[0] += x[i];
  float s = 0.0f;
  for (float a : acc) s += a;
  return s;
}

// Plain vectorised read of words (n,) uint32 (wrapping integer sum).
__attribute__((noinline, target_clones("avx2", "default"))) std::uint32_t read_words(const std::uint32_t* w, std::size_t n) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i < n; ++i) s += w[i];
  return s;
}

// Evicts caches: reads a 64 MiB buffer (>> 32 MiB L3).
class CacheFlusher {
 public:
  CacheFlusher() : buf_(64u << 20 >> 2, 1u) {}
  void flush() { g_word_sink = g_word_sink + read_words(buf_.data(), buf_.size()); }

 private:
  std::vector<std::uint32_t> buf_;
};

// Deterministic pseudo-random floats in [-1, 1) (fast LCG; quality irrelevant).
void fill_random(float* v, std::size_t n, std::uint32_t seed) {
  std::uint32_t s = seed;
  for (std::size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    v[i] = static_cast<float>(static_cast<std::int32_t>(s)) * (1.0f / 2147483648.0f);
  }
}

template <class F>
double cold_ms(CacheFlusher& flusher, F&& f) {
  flusher.flush();
  const auto t0 = std::chrono::steady_clock::now();
  f();
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

constexpr int kOps = 6;  // read, pack, momentum_pack, apply, tally, tally_read

void run_kernels_bench(const KernelsBenchOptions& opt) {
  namespace k = signvote::kernels;
  const SignOps& o = opt.isa.empty() ? k::best_ops() : k::ops(k::parse_isa(opt.isa));
  const std::size_t n = opt.dim, W = opt.workers;
  const std::size_t words = k::packed_words(n), stride = k::wire_words(n);
  // x, m, g, scratch floats + W vote rows + result: fail with the figure, not bad_alloc.
  signvote::require_memory(4 * 4 * (n + opt.offset) + 4 * (W + 2) * stride,
                           fmt::format("--dim {} --workers {}", n, W));

  // Allocate + touch everything once (page faults are not part of any timing).
  // 64-byte aligned like the training buffers; --offset shifts the floats.
  AlignedArray<float> xa(n + opt.offset), ma(n + opt.offset), ga(n + opt.offset);
  float* const xp = xa.data() + opt.offset;
  float* const mp = ma.data() + opt.offset;
  float* const gp = ga.data() + opt.offset;
  fill_random(xp, n, 1);
  fill_random(mp, n, 2);
  fill_random(gp, n, 3);
  AlignedArray<std::uint32_t> bits(words), votes(W * stride), out(words);
  const float* sources[3] = {xp, mp, gp};
  for (std::size_t r = 0; r < W; ++r) o.pack(sources[r % 3], n, votes.data() + r * stride);
  for (std::size_t r = 3; r < W; r += 2) k::invert_signs(votes.data() + r * stride, n);
  CacheFlusher flusher;

  auto read = [&] { g_float_sink = g_float_sink + read_floats(xp, n); };
  auto pack = [&] { g_word_sink = g_word_sink + static_cast<std::uint32_t>(o.pack(xp, n, bits.data())); };
  auto momentum = [&] { o.momentum_pack(mp, gp, n, 0.9f, bits.data()); };
  auto apply = [&] { o.apply(xp, n, bits.data(), 1e-7f, 0.0f); };
  auto tally = [&] { o.tally(votes.data(), W, stride, words, out.data(), signvote::kernels::tie_word(0)); };
  auto tally_read = [&] { g_word_sink = g_word_sink + read_words(votes.data(), W * stride); };

  // Op order rotates every rep so each op sees every position after the
  // flush equally often (the first op after a flush measured up to 20%
  // faster or slower depending on position).
  const std::function<void()> fns[kOps] = {read, pack, momentum, apply, tally, tally_read};
  std::vector<double> t[kOps];
  for (int rep = -1; rep < opt.reps; ++rep) {  // rep -1: warm-up, discarded
    for (int j = 0; j < kOps; ++j) {
      const int op = (j + (rep < 0 ? 0 : rep)) % kOps;
      const double ms = cold_ms(flusher, fns[op]);
      if (rep >= 0) t[op].push_back(ms);
    }
  }

  const double gb = static_cast<double>(n) * sizeof(float) * 1e-9;
  const double read_ms = median(t[0]), pack_ms = median(t[1]), mom_ms = median(t[2]),
               apply_ms = median(t[3]), tally_ms = median(t[4]), tally_read_ms = median(t[5]);
  const double read_gbps = gb / (read_ms * 1e-3), pack_gbps = gb / (pack_ms * 1e-3);
  if (opt.json) {
    std::printf(
        "{\"isa\": \"%s\", \"dim\": %zu, \"workers\": %zu, \"reps\": %d, \"offset\": %zu, "
        "\"read_GBps\": %.2f, \"pack_GBps\": %.2f, \"momentum_pack_GBps\": %.2f, "
        "\"apply_GBps\": %.2f, \"read_ms\": %.3f, \"pack_ms\": %.3f, \"momentum_pack_ms\": %.3f, "
        "\"apply_ms\": %.3f, \"tally_ms\": %.3f, \"tally_read_ms\": %.3f, "
        "\"pack_vs_read\": %.3f, \"tally_vs_read\": %.3f}\n",
        k::isa_name(o.isa), n, W, opt.reps, opt.offset, read_gbps, pack_gbps, gb / (mom_ms * 1e-3),
        gb / (apply_ms * 1e-3), read_ms, pack_ms, mom_ms, apply_ms, tally_ms, tally_read_ms,
        pack_gbps / read_gbps, tally_ms / tally_read_ms);
  } else {
    std::printf("isa %s, dim %zu, workers %zu, %d reps (medians, cold caches)\n",
                k::isa_name(o.isa), n, W, opt.reps);
    std::printf("  read           %8.3f ms  %6.2f GB/s\n", read_ms, read_gbps);
    std::printf("  pack           %8.3f ms  %6.2f GB/s  (%.2fx read)\n", pack_ms, pack_gbps,
                pack_gbps / read_gbps);
    std::printf("  momentum_pack  %8.3f ms  %6.2f GB/s\n", mom_ms, gb / (mom_ms * 1e-3));
    std::printf("  apply          %8.3f ms  %6.2f GB/s\n", apply_ms, gb / (apply_ms * 1e-3));
    std::printf("  tally          %8.3f ms  (%.2fx the %.3f ms read of the votes)\n", tally_ms,
                tally_ms / tally_read_ms, tally_read_ms);
  }
}

void add_kernels_bench(CLI::App& app) {
  auto opt = std::make_shared<KernelsBenchOptions>();
  CLI::App* sub = app.add_subcommand("kernels", "pack / momentum_pack / apply / tally vs read bandwidth");
  sub->add_option("--dim", opt->dim, "coordinates (floats) per vector, 1..2147483647")
      ->check(CLI::Range(std::size_t{1}, std::size_t{2147483647}));
  sub->add_option("--workers", opt->workers, "voters W for tally, 1..1023")->check(CLI::Range(1, 1023));
  sub->add_option("--isa", opt->isa, "scalar|avx2|avx512 (default: best available)");
  sub->add_option("--reps", opt->reps, "timed repetitions (median reported), 1..100000")->check(CLI::Range(1, 100000));
  sub->add_option("--offset", opt->offset, "floats past 64-byte alignment for x, m, g (e.g. 4), 0..15")
      ->check(CLI::Range(std::size_t{0}, std::size_t{15}));
  sub->add_flag("--json", opt->json, "print one JSON object");
  sub->callback([opt] { run_kernels_bench(*opt); });
}

signvote::bench::RegisterBench reg(&add_kernels_bench);

}  // namespace
