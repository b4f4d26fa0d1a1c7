// Reader for the PyTorch reference fixture written by
// scripts/make_nn_reference.py (format documented there; version 1).
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace signvote::nn::testing {

struct NetFixture {
  static constexpr uint32_t kMagic = 0x46524E53;  // "SNRF"
  static constexpr uint32_t kVersion = 1;
  int32_t width = 0, batch = 0, in_channels = 0, image_size = 0, num_classes = 0;
  int32_t num_params = 0, num_buffers = 0;
  std::vector<float> params, buffers_before, images, logits_train, grads, buffers_after,
      logits_eval;
  std::vector<int32_t> labels;
  double loss = 0.0;
};

namespace detail {
class LeReader {  // little-endian host assumed (x86-64); checked by the magic
 public:
  explicit LeReader(const std::string& path) : in_(path, std::ios::binary) {
    if (!in_) throw std::runtime_error("cannot open fixture " + path);
  }
  template <class T>
  T get() {
    T v{};
    in_.read(reinterpret_cast<char*>(&v), sizeof v);
    if (!in_) throw std::runtime_error("fixture truncated");
    return v;
  }
  template <class T>
  std::vector<T> vec(size_t n) {
    std::vector<T> v(n);
    in_.read(reinterpret_cast<char*>(v.data()), std::streamsize(n * sizeof(T)));
    if (!in_) throw std::runtime_error("fixture truncated");
    return v;
  }
  bool at_end() { return in_.peek() == std::char_traits<char>::eof(); }

 private:
  std::ifstream in_;
};
}  // namespace detail

inline NetFixture read_net_fixture(const std::string& path) {
  detail::LeReader r(path);
  NetFixture f;
  if (r.get<uint32_t>() != NetFixture::kMagic) throw std::runtime_error("bad fixture magic");
  if (const auto v = r.get<uint32_t>(); v != NetFixture::kVersion)
    throw std::runtime_error("unsupported fixture version " + std::to_string(v));
  for (int32_t* p : {&f.width, &f.batch, &f.in_channels, &f.image_size, &f.num_classes,
                     &f.num_params, &f.num_buffers})
    *p = r.get<int32_t>();
  const size_t img = size_t(f.batch) * f.in_channels * f.image_size * f.image_size;
  const size_t logits = size_t(f.batch) * f.num_classes;
  f.params = r.vec<float>(size_t(f.num_params));
  f.buffers_before = r.vec<float>(size_t(f.num_buffers));
  f.images = r.vec<float>(img);
  f.labels = r.vec<int32_t>(size_t(f.batch));
  f.logits_train = r.vec<float>(logits);
  f.loss = r.get<double>();
  f.grads = r.vec<float>(size_t(f.num_params));
  f.buffers_after = r.vec<float>(size_t(f.num_buffers));
  f.logits_eval = r.vec<float>(logits);
  if (r.get<uint32_t>() != NetFixture::kMagic || !r.at_end())
    throw std::runtime_error("bad fixture end marker");
  return f;
}

}  // namespace signvote::nn::testing
