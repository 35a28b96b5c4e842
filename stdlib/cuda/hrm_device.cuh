// hrmc's device vocabulary: the only names the generated CUDA C uses beyond C itself. Two halves, one
// meaning: under NVRTC (__CUDACC__) they are CUDA; on the host they run the same kernel source on
// fibers, one per CUDA thread, so tests execute the printed code without a GPU.
//   hrm_thread() hrm_threads() hrm_block() hrm_blocks()   threadIdx.x, blockDim.x, blockIdx.x, gridDim.x
//   hrm_sync()                                            __syncthreads()
//   hrm_block_sum(v) hrm_block_max(v)                     every thread of the block gets the reduction
//   hrm_bf16, hrm_bf16_to_f32, hrm_f32_to_bf16            bf16 storage; widening is exact, narrowing
//                                                         rounds to nearest even (NaN stays NaN)
//   hrm_exp hrm_rsqrt hrm_maximum hrm_minimum hrm_f32_bits
// Kernels are correct for any block size (every loop strides by hrm_threads()); the GPU launches
// multiples of 32, the host emulation any count.
#pragma once

typedef unsigned short hrm_bf16;

#if defined(__CUDACC__)

#define HRM_KERNEL extern "C" __global__
#define HRM_DEVICE static __device__ __forceinline__
#define HRM_SHARED __shared__
#define HRM_HOST_ENTRY(...)

HRM_DEVICE long long hrm_thread() { return threadIdx.x; }
HRM_DEVICE long long hrm_threads() { return blockDim.x; }
HRM_DEVICE long long hrm_block() { return blockIdx.x; }
HRM_DEVICE long long hrm_blocks() { return gridDim.x; }
HRM_DEVICE void hrm_sync() { __syncthreads(); }
HRM_DEVICE float hrm_f32_bits(unsigned u) { return __uint_as_float(u); }
HRM_DEVICE float hrm_bf16_to_f32(hrm_bf16 b) { return __uint_as_float(static_cast<unsigned>(b) << 16); }
HRM_DEVICE hrm_bf16 hrm_f32_to_bf16(float f) {
  unsigned short r;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r) : "f"(f));  // sm_80+
  return r;
}
HRM_DEVICE float hrm_exp(float x) { return expf(x); }
HRM_DEVICE float hrm_rsqrt(float x) { return rsqrtf(x); }

// Warp shuffles, then one value per warp through shared memory. blockDim.x is a multiple of 32.
template <bool Sum>
HRM_DEVICE float hrm_block_reduce(float v) {
  __shared__ float perWarp[32];
  for (int o = 16; o > 0; o >>= 1) {
    const float other = __shfl_xor_sync(0xffffffffu, v, o);
    v = Sum ? v + other : fmaxf(v, other);
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  __syncthreads();  // an earlier reduction may still be reading perWarp
  if (lane == 0) perWarp[warp] = v;
  __syncthreads();
  v = lane < warps ? perWarp[lane] : (Sum ? 0.0f : __uint_as_float(0xff800000u));
  for (int o = 16; o > 0; o >>= 1) {
    const float other = __shfl_xor_sync(0xffffffffu, v, o);
    v = Sum ? v + other : fmaxf(v, other);
  }
  return v;
}

#else  // the host emulation

#include <ucontext.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#define HRM_KERNEL static
#define HRM_DEVICE static inline
#define HRM_SHARED static thread_local
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __restrict__ __restrict

namespace hrm_host {

// One block at a time on the calling OS thread: each CUDA thread is a fiber that runs until it
// reaches a barrier or returns; the scheduler resumes them round-robin, so a barrier is a round.
struct Block {
  long long index = 0, count = 1, thread = 0, threads = 1;
  std::vector<ucontext_t> fibers;
  std::vector<std::vector<char>> stacks;
  std::vector<char> done;
  ucontext_t scheduler;
  const std::function<void()>* body = nullptr;
};
inline thread_local Block* current = nullptr;

inline void fiberMain() {
  (*current->body)();
  current->done[current->thread] = 1;
}  // returns to the scheduler through uc_link

inline void runBlock(Block& b) {
  const size_t stack = 256 * 1024;
  b.fibers.resize(b.threads);
  b.stacks.resize(b.threads);
  b.done.assign(b.threads, 0);
  for (long long t = 0; t < b.threads; ++t) {
    b.stacks[t].resize(stack);
    getcontext(&b.fibers[t]);
    b.fibers[t].uc_stack.ss_sp = b.stacks[t].data();
    b.fibers[t].uc_stack.ss_size = stack;
    b.fibers[t].uc_link = &b.scheduler;
    makecontext(&b.fibers[t], fiberMain, 0);
  }
  for (;;) {
    long long finished = 0, waiting = 0;
    for (long long t = 0; t < b.threads; ++t) {
      if (b.done[t]) continue;
      b.thread = t;
      swapcontext(&b.scheduler, &b.fibers[t]);
      (b.done[t] ? finished : waiting) += 1;
    }
    if (waiting == 0) return;
    if (finished > 0) {
      std::fprintf(stderr, "hrm host emulation: block %lld: %lld threads returned while %lld wait at a barrier\n",
                   b.index, finished, waiting);
      std::abort();
    }
  }
}

inline void launch(long long blocks, long long threads, const std::function<void()>& body) {
  Block b;
  b.count = blocks;
  b.threads = threads;
  b.body = &body;
  Block* outer = current;
  current = &b;
  for (long long i = 0; i < blocks; ++i) {
    b.index = i;
    runBlock(b);
  }
  current = outer;
}

}  // namespace hrm_host

#define HRM_HOST_ENTRY(name, ...)                                                      \
  extern "C" void name##_host(long long blocks, long long threads, void** args) {      \
    hrm_host::launch(blocks, threads, [&] { name(__VA_ARGS__); });                     \
  }

HRM_DEVICE long long hrm_thread() { return hrm_host::current->thread; }
HRM_DEVICE long long hrm_threads() { return hrm_host::current->threads; }
HRM_DEVICE long long hrm_block() { return hrm_host::current->index; }
HRM_DEVICE long long hrm_blocks() { return hrm_host::current->count; }
HRM_DEVICE void hrm_sync() {
  hrm_host::Block* b = hrm_host::current;
  swapcontext(&b->fibers[b->thread], &b->scheduler);
}
HRM_DEVICE float hrm_f32_bits(unsigned u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
HRM_DEVICE float hrm_bf16_to_f32(hrm_bf16 b) { return hrm_f32_bits(static_cast<unsigned>(b) << 16); }
HRM_DEVICE hrm_bf16 hrm_f32_to_bf16(float f) {
  unsigned u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<hrm_bf16>((u >> 16) | 0x40);  // quiet NaN
  return static_cast<hrm_bf16>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
HRM_DEVICE float hrm_exp(float x) { return std::exp(x); }
HRM_DEVICE float hrm_rsqrt(float x) { return 1.0f / std::sqrt(x); }

// Every thread writes its value, then each sums them all in the same order.
template <bool Sum>
HRM_DEVICE float hrm_block_reduce(float v) {
  static thread_local std::vector<float> values;
  hrm_sync();  // an earlier reduction may still be reading `values`
  values.resize(hrm_threads());
  values[hrm_thread()] = v;
  hrm_sync();
  float r = Sum ? 0.0f : hrm_f32_bits(0xff800000u);
  for (float x : values) r = Sum ? r + x : std::fmax(r, x);
  return r;
}

#endif

HRM_DEVICE float hrm_block_sum(float v) { return hrm_block_reduce<true>(v); }
HRM_DEVICE float hrm_block_max(float v) { return hrm_block_reduce<false>(v); }
// arith.maximumf / minimumf: NaN wins.
HRM_DEVICE float hrm_maximum(float a, float b) { return a != a || b != b ? a + b : fmaxf(a, b); }
HRM_DEVICE float hrm_minimum(float a, float b) { return a != a || b != b ? a + b : fminf(a, b); }
