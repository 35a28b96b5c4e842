// hrmc's hand-written CUDA kernels, as hrmc compiles them (NVRTC, or the host emulation): attention for
// each head dimension the models use, the row-wise library kernels in fp32 and bf16 storage, the
// embedding gradient and the optimizer.
#include "hrm_attention.cuh"
#include "hrm_rows.cuh"
#include "hrm_train.cuh"

HRM_ATTENTION_KERNELS(32, float, f32)
HRM_ATTENTION_KERNELS(32, hrm_bf16, bf16)
HRM_ATTENTION_KERNELS(64, float, f32)
HRM_ATTENTION_KERNELS(64, hrm_bf16, bf16)
HRM_ATTENTION_KERNELS(128, float, f32)
HRM_ATTENTION_KERNELS(128, hrm_bf16, bf16)

HRM_ROW_KERNELS(float, f32)
HRM_ROW_KERNELS(hrm_bf16, bf16)
HRM_COLUMN_KERNELS
HRM_TRAIN_KERNELS
