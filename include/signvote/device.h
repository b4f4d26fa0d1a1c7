// Where memory lives and how it moves between spaces.
//
//   MemSpace::host  ordinary process memory (CPU layers, MPI buffers)
//   MemSpace::cuda  memory of the CUDA device a model was built on
//
// Nothing moves implicitly: a model built with ModelSpec.device = "cuda"
// keeps its parameters, gradients and activations on the device, and a
// caller that wants them on the host asks with copy_floats(). A build
// without CUDA has the same API; every cuda request throws, naming it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace signvote {

enum class MemSpace : uint8_t { host, cuda };
const char* mem_space_name(MemSpace s);  // "host" | "cuda"

// true when this build has the CUDA workers (cuDNN and cuBLAS layers).
bool cuda_built();

// CUDA devices this process sees (CUDA_VISIBLE_DEVICES applies). 0 without a
// CUDA build, a driver or a device; *why (when non-null) then says which.
int cuda_device_count(std::string* why = nullptr);

// Name, compute capability and memory of device `index`, e.g.
// "NVIDIA H200 (sm_90, 139.8 GiB)". Throws for a bad index.
std::string cuda_device_name(int index);

// Synchronous copy of n floats; either side may be host or cuda memory of
// the current device. stream (a cudaStream_t): the copy is queued on it and
// that stream is waited for, so it follows the stream's work (PyTorch's
// streams do not wait for the legacy stream a plain cudaMemcpy uses); null:
// cudaMemcpy. Throws std::runtime_error naming the CUDA error, or
// std::logic_error when a cuda side is asked of a build without CUDA.
void copy_floats(float* dst, MemSpace dst_space, const float* src, MemSpace src_space, size_t n,
                 void* stream = nullptr);

}  // namespace signvote
