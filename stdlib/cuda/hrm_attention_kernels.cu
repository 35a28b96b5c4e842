// The attention kernels hrmc compiles (NVRTC, or the host emulation): each head dimension the models
// use, in fp32 and bf16 storage.
#include "hrm_attention.cuh"

HRM_ATTENTION_KERNELS(32, float, f32)
HRM_ATTENTION_KERNELS(32, hrm_bf16, bf16)
HRM_ATTENTION_KERNELS(64, float, f32)
HRM_ATTENTION_KERNELS(64, hrm_bf16, bf16)
HRM_ATTENTION_KERNELS(128, float, f32)
HRM_ATTENTION_KERNELS(128, hrm_bf16, bf16)
