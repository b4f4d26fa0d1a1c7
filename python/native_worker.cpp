// libsignvote_native.so, the worker part of python/native_api.h: an
// ExternalWorker behind an opaque handle. The device rules (the buffers'
// CUDA device current during each call, copies on the worker's stream) are
// ExternalWorker's own (signvote/external.h).
#include "native_api.h"
#include "native_guard.h"

#include "signvote/external.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

struct sv_worker {
  explicit sv_worker(const std::vector<std::string>& settings, const signvote::ExternalMemory& m) : w(settings, m) {}
  signvote::ExternalWorker w;
};

using namespace signvote::native;

namespace {

thread_local std::string t_yaml;  // sv_worker_config_yaml's string

signvote::ExternalWorker& of(sv_worker* w) {
  need(w, "worker");
  return w->w;
}

const signvote::ExternalWorker& of(const sv_worker* w) {
  need(w, "worker");
  return w->w;
}

// device: -1 host, -2 the current CUDA device, >= 0 that CUDA device.
signvote::ExternalMemory memory(float* params, float* grads, size_t dim, int device, void* stream) {
  if (device < -2) throw std::invalid_argument("signvote: device " + std::to_string(device) + ": -1, -2 or >= 0");
  signvote::ExternalMemory m{params, grads, dim, device == -1 ? signvote::MemSpace::host : signvote::MemSpace::cuda,
                             stream};
  m.device = device >= 0 ? device : -1;  // ExternalWorker resolves -1 to the current device
  return m;
}

}  // namespace

extern "C" {

int sv_worker_new(const char* const* settings, int n_settings, float* params, float* grads, size_t dim, int device,
                  void* stream, sv_worker** out) {
  return guarded([&] {
    need(out, "out");
    if (n_settings > 0) need(settings, "settings");
    std::vector<std::string> kv;
    for (int i = 0; i < n_settings; ++i) kv.emplace_back(settings[i] ? settings[i] : "");
    ensure_mpi();
    *out = nullptr;
    *out = new sv_worker(kv, memory(params, grads, dim, device, stream));
  });
}

void sv_worker_free(sv_worker* w) { delete w; }  // ~ExternalWorker does not throw

int sv_worker_step(sv_worker* w, float loss, uint32_t correct, uint32_t samples, const uint8_t* present,
                   size_t n_tensors, const float* lr, const float* wd, size_t n_groups, int* last) {
  return guarded([&] {
    const bool done = of(w).step(loss, correct, samples, {present, n_tensors, lr, wd, n_groups});
    if (last) *last = done ? 1 : 0;
  });
}

int sv_worker_leave(sv_worker* w) {
  return guarded([&] { of(w).leave(); });
}

int sv_worker_resume(sv_worker* w, uint64_t step, double elapsed_s) {
  return guarded([&] { of(w).resume(step, elapsed_s); });
}

int sv_worker_join(sv_worker* w) {
  return guarded([&] { of(w).join(); });
}

int sv_worker_average(sv_worker* w, float* x, size_t n) {
  return guarded([&] {
    if (n > 0) need(x, "x");
    of(w).average(x, n);
  });
}

int sv_worker_momentum_into(sv_worker* w, float* dst, size_t n) {
  return guarded([&] {
    const auto m = of(w).momentum();
    if (n != m.size()) throw std::invalid_argument("momentum_into: wrong length");
    if (n > 0) need(dst, "dst");
    std::copy(m.begin(), m.end(), dst);
  });
}

int sv_worker_set_momentum(sv_worker* w, const float* src, size_t n) {
  return guarded([&] {
    if (n > 0) need(src, "src");
    of(w).set_momentum(src, n);
  });
}

int sv_worker_int(const sv_worker* w, const char* name, int64_t* value) {
  return guarded([&] {
    need(name, "name"), need(value, "value");
    const auto& x = of(w);
    const std::string k = name;
    if (k == "rank") *value = x.rank();
    else if (k == "worker_index") *value = x.worker_index();
    else if (k == "workers") *value = x.workers();
    else if (k == "servers") *value = x.servers();
    else if (k == "steps_done") *value = static_cast<int64_t>(x.steps_done());
    else if (k == "finished") *value = x.finished() ? 1 : 0;
    else if (k == "max_steps") *value = static_cast<int64_t>(x.max_steps());
    else if (k == "skipped") *value = x.skipped() ? 1 : 0;
    else throw std::invalid_argument("signvote: no worker property " + k);
  });
}

int sv_worker_elapsed_s(const sv_worker* w, double* seconds) {
  return guarded([&] { need(seconds, "seconds"), *seconds = of(w).elapsed_s(); });
}

int sv_worker_config_yaml(const sv_worker* w, const char** yaml) {
  return guarded([&] {
    need(yaml, "yaml");
    t_yaml = of(w).config_yaml();
    *yaml = t_yaml.c_str();
  });
}

}  // extern "C"
