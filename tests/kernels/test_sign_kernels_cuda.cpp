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

#include "kernel_test_utils.h"
#include "signvote/sign_kernels.h"
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
    gpu::pack(d_x.data(), n, d_bits.data(), d_nans.data(), nullptr);
    CHECK(download(d_bits, ref.size()) == ref);
    CHECK(download(d_nans, 1)[0] == ref_nans);

    const auto g = random_floats(n, 4);
    auto m = random_floats(n, 5);
    auto d_m = upload(m);
    auto d_g = upload(g);
    cpu.momentum_pack(m.data(), g.data(), n, 0.9f, ref.data());
    gpu::momentum_pack(d_m.data(), d_g.data(), n, 0.9f, d_bits.data(), d_nans.data(), nullptr);
    check_close(download(d_m, n), m);
    CHECK(download(d_bits, ref.size()) == ref);
    CHECK(download(d_nans, 1)[0] == 0u);
  }
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

TEST_CASE("cuda tally equals the CPU kernel", "[kernels][cuda]") {
  for (std::size_t W : {1u, 2u, 3u, 8u, 27u, 64u, 1023u}) {
    for (std::size_t n : {std::size_t{33}, std::size_t{1000}, std::size_t{100003}}) {
      if (W > 64 && n > 1000) continue;
      INFO("W = " << W << ", n = " << n);
      const std::size_t words = packed_words(n), stride = wire_words(n);
      const auto votes = random_votes(W, n, stride, static_cast<std::uint32_t>(W + n));
      std::vector<std::uint32_t> ref(words);
      ops(Isa::scalar).tally(votes.data(), W, stride, words, ref.data());
      auto d_votes = upload(votes);
      gpu::DeviceBuffer<std::uint32_t> d_out(words);
      gpu::tally(d_votes.data(), W, stride, words, d_out.data(), nullptr);
      CHECK(download(d_out, words) == ref);
    }
  }
  gpu::DeviceBuffer<std::uint32_t> d(4);
  CHECK_THROWS_AS(gpu::tally(d.data(), 0, 4, 4, d.data(), nullptr), std::invalid_argument);
  CHECK_THROWS_AS(gpu::tally(d.data(), 1024, 4, 4, d.data(), nullptr), std::invalid_argument);
}

int main(int argc, char** argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("skipped: no CUDA device\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
