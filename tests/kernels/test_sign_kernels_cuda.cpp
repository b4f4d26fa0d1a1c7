// CUDA kernels against their CPU twins (bits bit-exact; floats within
// atol + rtol*|ref|, expected exact since both sides use the same separately
// rounded ops). Without a CUDA device: prints "skipped: no CUDA device" and
// exits 77, which ctest reports as skipped (SKIP_RETURN_CODE 77).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <vector>

#include "kernel_test_utils.h"
#include "signvote/sign_kernels.h"
#include "kernels/dense_kernels_cuda.h"
#include "kernels/sign_kernels_cuda.h"

using namespace signvote::kernels;
namespace gpu = signvote::kernels::cuda;
using signvote::kernels::test::random_floats;
using signvote::kernels::test::random_votes;

namespace {

constexpr float kAtol = 0.0f;  // same op sequence: exact on both sides
constexpr float kRtol = 0.0f;

const std::size_t kSizes[] = {0, 1, 31, 32, 33, 1000, 1000007};

void check_close(const std::vector<float>& got, const std::vector<float>& ref) {
  REQUIRE(got.size() == ref.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("i = " << i);
    REQUIRE(std::abs(got[i] - ref[i]) <= kAtol + kRtol * std::abs(ref[i]));
  }
}

template <class T>
gpu::DeviceBuffer<T> upload(const std::vector<T>& host) {
  gpu::DeviceBuffer<T> dev(host.size());
  gpu::copy_to_device(dev.data(), host.data(), host.size());
  return dev;
}

template <class T>
std::vector<T> download(const gpu::DeviceBuffer<T>& dev, std::size_t count) {
  std::vector<T> host(count);
  gpu::copy_to_host(host.data(), dev.data(), count);
  return host;
}

}  // namespace

TEST_CASE("cuda pack / momentum_pack equal the CPU kernels", "[kernels][cuda]") {
  const SignOps& cpu = ops(Isa::scalar);
  gpu::DeviceBuffer<unsigned long long> d_nans(1);
  for (std::size_t n : kSizes) {
    INFO("n = " << n);
    auto x = random_floats(n, 3);
    if (n > 40) x[40] = std::numeric_limits<float>::quiet_NaN();
    std::vector<std::uint32_t> ref(packed_words(n));
    const std::size_t ref_nans = cpu.pack(x.data(), n, ref.data());
    auto d_x = upload(x);
    gpu::DeviceBuffer<std::uint32_t> d_bits(packed_words(n));
    gpu::reset_counters(d_nans.data(), 1, nullptr);
    gpu::pack(d_x.data(), n, d_bits.data(), d_nans.data(), nullptr);
    CHECK(download(d_bits, ref.size()) == ref);
    CHECK(download(d_nans, 1)[0] == ref_nans);

    const auto g = random_floats(n, 4);
    auto m = random_floats(n, 5);
    auto d_m = upload(m);
    auto d_g = upload(g);
    cpu.momentum_pack(m.data(), g.data(), n, 0.9f, ref.data());
    gpu::reset_counters(d_nans.data(), 1, nullptr);
    gpu::momentum_pack(d_m.data(), d_g.data(), n, 0.9f, d_bits.data(), d_nans.data(), nullptr);
    check_close(download(d_m, n), m);
    CHECK(download(d_bits, ref.size()) == ref);
    CHECK(download(d_nans, 1)[0] == 0u);

    cpu.lion_pack(m.data(), g.data(), n, 0.9f, 0.99f, ref.data());  // Lion from the same m
    gpu::reset_counters(d_nans.data(), 1, nullptr);
    gpu::lion_pack(d_m.data(), d_g.data(), n, 0.9f, 0.99f, d_bits.data(), d_nans.data(), nullptr);
    check_close(download(d_m, n), m);
    CHECK(download(d_bits, ref.size()) == ref);
    CHECK(download(d_nans, 1)[0] == 0u);
  }
}

// The launchers add to their counter and never zero it: NaNs met by two
// launches without a reset add up, exactly; reset_counters zeroes every slot.
TEST_CASE("cuda NaN counters accumulate until reset", "[kernels][cuda]") {
  const SignOps& cpu = ops(Isa::scalar);
  const std::size_t n = 100003;
  auto x = random_floats(n, 11);
  for (std::size_t i = 7; i < n; i += 997) x[i] = std::numeric_limits<float>::quiet_NaN();  // 101 NaNs
  std::vector<std::uint32_t> ref(packed_words(n));
  const std::size_t x_nans = cpu.pack(x.data(), n, ref.data());
  REQUIRE(x_nans == 101u);
  auto g = random_floats(n, 12);
  g[5] = g[n - 1] = std::numeric_limits<float>::quiet_NaN();  // m = b m + (1-b) g: 2 NaNs and
  g[6] = std::numeric_limits<float>::infinity();               // one inf in m, 3 non-finite
  auto d_x = upload(x), d_g = upload(g), d_m = upload(random_floats(n, 13));
  gpu::DeviceBuffer<std::uint32_t> d_bits(packed_words(n));
  gpu::DeviceBuffer<unsigned long long> d_nans(3);  // slots 0, 1 counted; slot 2 stays 0
  gpu::reset_counters(d_nans.data(), 3, nullptr);
  gpu::pack(d_x.data(), n, d_bits.data(), d_nans.data(), nullptr);
  gpu::pack(d_x.data(), n, d_bits.data(), d_nans.data(), nullptr);  // no reset in between
  gpu::momentum_pack(d_m.data(), d_g.data(), n, 0.9f, d_bits.data(), d_nans.data() + 1, nullptr);
  gpu::pack(d_x.data(), 0, d_bits.data(), d_nans.data() + 2, nullptr);  // n = 0 adds nothing
  CHECK(download(d_nans, 3) == std::vector<unsigned long long>{2 * x_nans, 3, 0});
  gpu::reset_counters(d_nans.data(), 3, nullptr);
  CHECK(download(d_nans, 3) == std::vector<unsigned long long>{0, 0, 0});
  gpu::pack(d_x.data(), n, d_bits.data(), d_nans.data(), nullptr);
  CHECK(download(d_nans, 1)[0] == x_nans);
}

TEST_CASE("cuda apply equals the CPU kernel", "[kernels][cuda]") {
  for (std::size_t n : kSizes) {
    INFO("n = " << n);
    auto x = random_floats(n, 6);
    std::vector<std::uint32_t> bits(packed_words(n));
    ops(Isa::scalar).pack(random_floats(n, 7).data(), n, bits.data());
    auto d_x = upload(x);
    auto d_bits = upload(bits);
    ops(Isa::scalar).apply(x.data(), n, bits.data(), 1e-3f, 5e-4f);
    gpu::apply(d_x.data(), n, d_bits.data(), 1e-3f, 5e-4f, nullptr);
    check_close(download(d_x, n), x);
  }
}

// apply_range: a range starting inside a word (a PyTorch worker's tensor),
// against the CPU kernel applied one coordinate at a time with its bit.
TEST_CASE("cuda apply_range equals the CPU kernel from any first coordinate", "[kernels][cuda]") {
  const std::size_t d = 5000;
  std::vector<std::uint32_t> bits(packed_words(d));
  ops(Isa::scalar).pack(random_floats(d, 8).data(), d, bits.data());
  const auto d_bits = upload(bits);
  for (auto [first, n] : {std::pair<std::size_t, std::size_t>{0, 5000}, {37, 1}, {37, 1000}, {511, 2}, {4000, 1000}}) {
    INFO("first = " << first << ", n = " << n);
    auto x = random_floats(d, 9);
    auto d_x = upload(x);
    for (std::size_t i = first; i < first + n; ++i) {
      const std::uint32_t w = bits[i / 32] >> (i % 32);
      ops(Isa::scalar).apply(x.data() + i, 1, &w, 1e-3f, 5e-4f);
    }
    gpu::apply_range(d_x.data(), first, n, d_bits.data(), 1e-3f, 5e-4f, nullptr);
    check_close(download(d_x, d), x);
  }
}

TEST_CASE("cuda tally equals the CPU kernel", "[kernels][cuda]") {
  for (std::size_t W : {1u, 2u, 3u, 8u, 27u, 64u, 1023u}) {
    for (std::size_t n : {std::size_t{33}, std::size_t{1000}, std::size_t{100003}}) {
      if (W > 64 && n > 1000) continue;
      INFO("W = " << W << ", n = " << n);
      const std::size_t words = packed_words(n), stride = wire_words(n);
      const auto votes = random_votes(W, n, stride, static_cast<std::uint32_t>(W + n));
      std::vector<std::uint32_t> ref(words);
      for (std::uint64_t step : {0u, 1u}) {  // both tie parities
        ops(Isa::scalar).tally(votes.data(), W, stride, words, ref.data(), tie_word(step));
        auto d_votes = upload(votes);
        gpu::DeviceBuffer<std::uint32_t> d_out(words);
        gpu::tally(d_votes.data(), W, stride, words, d_out.data(), tie_word(step), nullptr);
        CHECK(download(d_out, words) == ref);
      }
    }
  }
  gpu::DeviceBuffer<std::uint32_t> d(4);
  CHECK_THROWS_AS(gpu::tally(d.data(), 0, 4, 4, d.data(), 0, nullptr), std::invalid_argument);
  CHECK_THROWS_AS(gpu::tally(d.data(), 1024, 4, 4, d.data(), 0, nullptr), std::invalid_argument);
}

TEST_CASE("cuda invert_signs equals the CPU sign flip", "[kernels][cuda]") {
  for (std::size_t n : kSizes) {
    INFO("n = " << n);
    const auto x = random_floats(n, 9);
    std::vector<std::uint32_t> ref(packed_words(n));
    ops(Isa::scalar).pack(x.data(), n, ref.data());
    auto d_bits = upload(ref);
    invert_signs(ref.data(), n);
    gpu::invert_signs(d_bits.data(), n, nullptr);
    CHECK(download(d_bits, ref.size()) == ref);
  }
}

TEST_CASE("cuda SGD and Adam steps equal the host update rules", "[kernels][cuda]") {
  const std::size_t n = 100003;
  DenseStep s;
  s.lr = 0.05f, s.wd = 5e-4f, s.mu = 0.9f, s.b2 = 0.999f, s.eps = 1e-8f, s.adam_a = 0.0123f, s.grad_scale = 0.25f;
  const auto g = random_floats(n, 21);
  for (bool adam : {false, true}) {
    auto x = random_floats(n, 22), m = random_floats(n, 23), v = random_floats(n, 24);
    for (auto& e : v) e = std::abs(e);
    auto d_x = upload(x), d_m = upload(m), d_v = upload(v), d_g = upload(g);
    for (std::size_t i = 0; i < n; ++i) {
      if (adam) adam_update(x[i], m[i], v[i], g[i], s);
      else sgd_update(x[i], m[i], g[i], s);
    }
    if (adam) gpu::adam_step(d_x.data(), d_m.data(), d_v.data(), d_g.data(), n, s, nullptr);
    else gpu::sgd_step(d_x.data(), d_m.data(), d_g.data(), n, s, nullptr);
    check_close(download(d_m, n), m);
    // Adam divides and takes a square root: the host's correctly rounded
    // sqrt/div equal the device's _rn intrinsics, so x matches too.
    check_close(download(d_x, n), x);
  }
}

int main(int argc, char** argv) {
  int devices = 0;
  const cudaError_t err = cudaGetDeviceCount(&devices);
  if (err != cudaSuccess || devices == 0) {
    std::printf("Skipped: no CUDA device visible (%s)\n", err != cudaSuccess ? cudaGetErrorString(err) : "0 devices");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
