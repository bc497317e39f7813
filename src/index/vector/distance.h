// Distance kernels with runtime CPU dispatch (internal to ragkv_vector; tests
// compare every level against the scalar reference).
//
// Every kernel has the same shape, raw(q, x, n), returning float:
//   - "l2"  the squared euclidean distance sum (q_i - x_i)^2
//   - "dot" the inner product sum q_i * x_i
// where q is the query form and x a stored vector. Pairs:
//   f32*f32, f32*f16, f32*bf16, f32*f64, f32*u8, f32*i8 (asymmetric: float
//   query against stored codes), u8*u8, i8*i8 (symmetric, exact in int32).
// The index maps raw to its metric's distance (see space.h).
//
// Pointers need no alignment; n may be any length (tails are handled).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ragkv::vec::internal {

using RawKernel = float (*)(const void* q, const void* x, size_t n);

enum class Pair : uint8_t { kF32, kF16, kBF16, kF64, kU8F, kI8F, kU8U8, kI8I8, kCount };

struct KernelTable {
  RawKernel l2[static_cast<int>(Pair::kCount)];
  RawKernel dot[static_cast<int>(Pair::kCount)];
  std::string_view level;
};

// The best table this CPU supports, chosen once (thread-safe static init).
const KernelTable& Kernels();

// The individual levels, for tests and benchmarks. Avx2/Avx512 return nullptr
// when the CPU lacks the instructions.
const KernelTable& ScalarKernels();
const KernelTable* Avx2Kernels();
const KernelTable* Avx512Kernels();

// IEEE binary16 <-> float32 and bfloat16 <-> float32 (round to nearest even).
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);
uint16_t FloatToBFloat16(float f);
float BFloat16ToFloat(uint16_t b);

// Software prefetch of `bytes` starting at p into all cache levels (at most
// the first kMaxPrefetchLines lines).
inline void Prefetch(const void* p, size_t bytes) {
  constexpr size_t kMaxPrefetchLines = 12;
  const char* c = static_cast<const char*>(p);
  size_t lines = (bytes + 63) / 64;
  if (lines > kMaxPrefetchLines) lines = kMaxPrefetchLines;
  for (size_t i = 0; i < lines; ++i) __builtin_prefetch(c + i * 64, 0, 3);
}

}  // namespace ragkv::vec::internal
