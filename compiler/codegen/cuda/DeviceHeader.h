#pragma once
// hrmc's CUDA library sources (stdlib/cuda/), built into hrmc: NVRTC and the host emulation compile
// against them, so no file needs to lie beside the binary. MLIR-free.
#include <string>
#include <vector>

#include "compiler/codegen/cuda/Nvrtc.h"

namespace hrmc::compiler {

inline constexpr const char* kCudaDeviceHeaderName = "hrm_device.cuh";
const std::string& cudaDeviceHeader();
// Every header of stdlib/cuda/ by the name `#include` uses (hrm_device.cuh, hrm_attention.cuh,
// hrm_rows.cuh, hrm_train.cuh).
const std::vector<NvrtcHeader>& cudaHeaders();
// The source that instantiates the hand-written kernels (hrm_library.cu), and their names: attention
// hrm_attention_forward_64_bf16 (`kernel` forward | backward_dq | backward_dkdv), the row kernels
// hrm_rope_f32 (`kernel` rope | rms_norm_grad | cross_entropy | cross_entropy_grad | argmax_match), and
// hrm_embedding_grad_f32, hrm_unbroadcast_f32, hrm_max_grad_f32, hrm_label_mean_f32,
// hrm_label_mean_grad_f32, hrm_exact_match_f32 and hrm_adam_atan2_kernel.
const std::string& cudaLibrarySource();
inline std::string attentionKernelName(const std::string& kernel, int64_t headDim, bool bf16) {
  return "hrm_attention_" + kernel + "_" + std::to_string(headDim) + (bf16 ? "_bf16" : "_f32");
}
inline std::string rowKernelName(const std::string& kernel, bool bf16) {
  return "hrm_" + kernel + (bf16 ? "_bf16" : "_f32");
}
inline bool attentionHeadDimSupported(int64_t headDim) { return headDim == 32 || headDim == 64 || headDim == 128; }

}  // namespace hrmc::compiler
