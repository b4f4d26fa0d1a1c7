// signvote-bench kernels-cuda: the CUDA sign kernels against the device's
// own copy bandwidth, measured in the same run.
//
//   build/signvote-bench kernels-cuda --dim 11173962 --workers 27 --reps 20 --json
//
// Each figure is bytes moved (read + written) / median time over --reps
// launches timed with CUDA events after one warm-up:
//   copy_GBps            cudaMemcpyAsync device-to-device of dim floats (2 x 4 dim bytes)
//   pack_GBps            x (4 dim) read, words (dim/8) written (the NaN
//                        counter is zeroed once, before the timed launches)
//   momentum_pack_GBps   m, g read, m written (12 dim), words written
//   apply_GBps           x read and written (8 dim), words read
//   tally_GBps           W wire-padded rows read, one row written
// and each kernel's ratio = its GB/s / copy_GBps (the target for the
// fused momentum+pack and apply is >= 0.8).
#include "bench_registry.h"
#include "kernels/device_buffer.h"
#include "kernels/sign_kernels_cuda.h"
#include "signvote/device.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <random>
#include <vector>

namespace {

namespace kc = signvote::kernels::cuda;
using signvote::kernels::packed_words;
using signvote::kernels::wire_words;

struct Options {
  size_t dim = 11173962, workers = 27;
  int reps = 20;
  bool json = false;
};

// Median milliseconds of `reps` runs of f on `stream` (CUDA events).
double median_ms(const std::function<void()>& f, int reps, cudaStream_t stream) {
  cudaEvent_t a = nullptr, b = nullptr;
  SV_CUDA_CHECK(cudaEventCreate(&a));
  SV_CUDA_CHECK(cudaEventCreate(&b));
  f();  // warm-up
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    SV_CUDA_CHECK(cudaEventRecord(a, stream));
    f();
    SV_CUDA_CHECK(cudaEventRecord(b, stream));
    SV_CUDA_CHECK(cudaEventSynchronize(b));
    float t = 0;
    SV_CUDA_CHECK(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::nth_element(ms.begin(), ms.begin() + long(ms.size() / 2), ms.end());
  return ms[ms.size() / 2];
}

void run(const Options& o) {
  std::string why;
  if (signvote::cuda_device_count(&why) == 0) throw std::runtime_error("kernels-cuda: no CUDA device visible (" + why + ")");
  cudaStream_t s = nullptr;
  SV_CUDA_CHECK(cudaStreamCreate(&s));
  const size_t n = o.dim, words = packed_words(n), row = wire_words(n);
  std::vector<float> host(n);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  for (float& v : host) v = nd(rng);
  kc::DeviceBuffer<float> x(n), m(n), g(n);
  kc::copy_to_device(x.data(), host.data(), n);
  kc::copy_to_device(m.data(), host.data(), n);
  kc::copy_to_device(g.data(), host.data(), n);
  kc::DeviceBuffer<std::uint32_t> bits(words), votes(row * o.workers), out(words);
  // The pack kernels add to their NaN counter and never zero it: one reset
  // here, outside the timed loops (the sum over all launches is not read).
  kc::DeviceBuffer<unsigned long long> nans(1);
  kc::reset_counters(nans.data(), nans.size(), s);
  SV_CUDA_CHECK(cudaMemset(votes.data(), 0x5a, votes.size() * 4));
  const double fb = 4.0 * double(n), wb = 4.0 * double(words);
  auto gbps = [](double bytes, double ms) { return bytes / (ms * 1e6); };
  const double copy = gbps(2 * fb, median_ms([&] { SV_CUDA_CHECK(cudaMemcpyAsync(x.data(), g.data(), size_t(fb), cudaMemcpyDeviceToDevice, s)); }, o.reps, s));
  const double pack = gbps(fb + wb, median_ms([&] { kc::pack(x.data(), n, bits.data(), nans.data(), s); }, o.reps, s));
  const double mpack = gbps(3 * fb + wb, median_ms([&] { kc::momentum_pack(m.data(), g.data(), n, 0.9f, bits.data(), nans.data(), s); }, o.reps, s));
  const double apply = gbps(2 * fb + wb, median_ms([&] { kc::apply(x.data(), n, bits.data(), 1e-6f, 5e-4f, s); }, o.reps, s));
  const double tally = gbps(4.0 * double(row * o.workers) + wb, median_ms([&] { kc::tally(votes.data(), o.workers, row, words, out.data(), signvote::kernels::tie_word(0), s); }, o.reps, s));
  SV_CUDA_CHECK(cudaStreamDestroy(s));
  const std::string dev = signvote::cuda_device_name(0);
  if (o.json) {
    fmt::print("{{\"bench\":\"kernels-cuda\",\"device\":\"{}\",\"dim\":{},\"workers\":{},\"reps\":{},\"copy_GBps\":{:.1f},"
               "\"pack_GBps\":{:.1f},\"momentum_pack_GBps\":{:.1f},\"apply_GBps\":{:.1f},\"tally_GBps\":{:.1f},"
               "\"pack_ratio\":{:.3f},\"momentum_pack_ratio\":{:.3f},\"apply_ratio\":{:.3f},\"tally_ratio\":{:.3f}}}\n",
               dev, n, o.workers, o.reps, copy, pack, mpack, apply, tally, pack / copy, mpack / copy, apply / copy, tally / copy);
  } else {
    fmt::print("{}: copy {:.0f} GB/s; pack {:.0f} ({:.2f}x), momentum_pack {:.0f} ({:.2f}x), apply {:.0f} ({:.2f}x), tally {:.0f} ({:.2f}x)\n",
               dev, copy, pack, pack / copy, mpack, mpack / copy, apply, apply / copy, tally, tally / copy);
  }
}

void add(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("kernels-cuda", "CUDA sign kernels vs the device's copy bandwidth");
  sub->add_option("--dim", o->dim, "coordinates, 1..2^31-1")->check(CLI::Range(size_t(1), size_t(2147483647)));
  sub->add_option("--workers", o->workers, "voters in the tally, 1..1023")->check(CLI::Range(size_t(1), size_t(1023)));
  sub->add_option("--reps", o->reps, "timed launches per kernel (median), 1..10000")->check(CLI::Range(1, 10000));
  sub->add_flag("--json", o->json, "print one JSON object");
  sub->callback([o] { run(*o); });
}

static signvote::bench::RegisterBench reg(&add);

}  // namespace
