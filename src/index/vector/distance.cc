// Distance kernels: a scalar reference, AVX2+FMA+F16C and AVX-512 (F/BW/VL)
// versions, one table per level, picked once at startup.
//
// Approach: each SIMD function carries __attribute__((target(...))) so the
// library itself is built for the baseline x86-64 ISA and runs on any CI
// machine; __builtin_cpu_supports decides which table Kernels() returns.
// AVX-512 tails use masked loads (no scalar epilogue); AVX2 tails fall back
// to the scalar loop on the remainder. Integer kernels widen u8/i8 to 16 bits
// and use madd (pairs of products summed into int32): with at most 65536
// dimensions no int32 lane can overflow (2048 steps * 2 * 255^2 < 2^31).
// RAGKV_VEC_KERNELS=scalar|avx2|avx512 overrides the choice (benchmarks).
//
// Rejected: compiling the whole library with -march=native (breaks on older
// CPUs), function multiversioning via target_clones (opaque dispatch cost and
// harder to test each level side by side), VNNI vpdpbusd for u8*u8 (it needs
// u8*s8 operands; the madd path already runs at load bandwidth here).
#include "index/vector/distance.h"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace ragkv::vec::internal {
namespace {

// ------------------------------------------------------------------ scalar

// Pointers may be unaligned (see distance.h): load through memcpy, which the
// compiler turns into a plain move.
template <typename T>
inline T At(const T* p, size_t i) {
  T v;
  std::memcpy(&v, reinterpret_cast<const char*>(p) + i * sizeof(T), sizeof(T));
  return v;
}

float L2F32Scalar(const float* q, const float* x, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) {
    const float d = At(q, i) - At(x, i);
    s += d * d;
  }
  return s;
}

float DotF32Scalar(const float* q, const float* x, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += At(q, i) * At(x, i);
  return s;
}

template <typename T, float (*Decode)(T)>
float L2Scalar(const float* q, const T* x, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) {
    const float d = At(q, i) - Decode(At(x, i));
    s += d * d;
  }
  return s;
}

template <typename T, float (*Decode)(T)>
float DotScalar(const float* q, const T* x, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += At(q, i) * Decode(At(x, i));
  return s;
}

template <typename T>
float L2IntScalar(const T* q, const T* x, size_t n) {
  int32_t s = 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t d = int32_t{q[i]} - int32_t{x[i]};
    s += d * d;
  }
  return static_cast<float>(s);
}

template <typename T>
float DotIntScalar(const T* q, const T* x, size_t n) {
  int32_t s = 0;
  for (size_t i = 0; i < n; ++i) s += int32_t{q[i]} * int32_t{x[i]};
  return static_cast<float>(s);
}

float DecodeDouble(double v) { return static_cast<float>(v); }
float DecodeU8(uint8_t v) { return static_cast<float>(v); }
float DecodeI8(int8_t v) { return static_cast<float>(v); }

// Adapters to the uniform RawKernel shape.
template <typename Q, typename X, float (*F)(const Q*, const X*, size_t)>
float Raw(const void* q, const void* x, size_t n) {
  return F(static_cast<const Q*>(q), static_cast<const X*>(x), n);
}

KernelTable MakeScalarTable() {
  KernelTable t{};
  auto set = [&t](Pair p, RawKernel l2, RawKernel dot) {
    t.l2[static_cast<int>(p)] = l2;
    t.dot[static_cast<int>(p)] = dot;
  };
  set(Pair::kF32, Raw<float, float, L2F32Scalar>, Raw<float, float, DotF32Scalar>);
  set(Pair::kF16, Raw<float, uint16_t, L2Scalar<uint16_t, HalfToFloat>>,
      Raw<float, uint16_t, DotScalar<uint16_t, HalfToFloat>>);
  set(Pair::kBF16, Raw<float, uint16_t, L2Scalar<uint16_t, BFloat16ToFloat>>,
      Raw<float, uint16_t, DotScalar<uint16_t, BFloat16ToFloat>>);
  set(Pair::kF64, Raw<float, double, L2Scalar<double, DecodeDouble>>,
      Raw<float, double, DotScalar<double, DecodeDouble>>);
  set(Pair::kU8F, Raw<float, uint8_t, L2Scalar<uint8_t, DecodeU8>>,
      Raw<float, uint8_t, DotScalar<uint8_t, DecodeU8>>);
  set(Pair::kI8F, Raw<float, int8_t, L2Scalar<int8_t, DecodeI8>>,
      Raw<float, int8_t, DotScalar<int8_t, DecodeI8>>);
  set(Pair::kU8U8, Raw<uint8_t, uint8_t, L2IntScalar<uint8_t>>,
      Raw<uint8_t, uint8_t, DotIntScalar<uint8_t>>);
  set(Pair::kI8I8, Raw<int8_t, int8_t, L2IntScalar<int8_t>>,
      Raw<int8_t, int8_t, DotIntScalar<int8_t>>);
  t.level = "scalar";
  return t;
}

// -------------------------------------------------------------------- AVX2

#define RAGKV_AVX2 __attribute__((target("avx2,fma,f16c")))

RAGKV_AVX2 inline float HSum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

RAGKV_AVX2 inline int32_t HSum256i(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// Loads 8 stored components as floats.
RAGKV_AVX2 inline __m256 Load8(const float* x) { return _mm256_loadu_ps(x); }
RAGKV_AVX2 inline __m256 Load8(const uint16_t* x, bool bf16) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x));
  if (bf16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  return _mm256_cvtph_ps(h);
}
RAGKV_AVX2 inline __m256 Load8(const uint8_t* x) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x))));
}
RAGKV_AVX2 inline __m256 Load8(const int8_t* x) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x))));
}

template <typename X, int kMode /*0 plain, 1 half, 2 bf16*/>
RAGKV_AVX2 inline __m256 LoadX8(const X* x) {
  if constexpr (kMode == 1) {
    return Load8(x, false);
  } else if constexpr (kMode == 2) {
    return Load8(x, true);
  } else {
    return Load8(x);
  }
}

template <typename X, int kMode, bool kL2, float (*Tail)(const float*, const X*, size_t)>
RAGKV_AVX2 float FloatKernelAvx2(const void* qv, const void* xv, size_t n) {
  const float* q = static_cast<const float*>(qv);
  const X* x = static_cast<const X*>(xv);
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a0 = _mm256_loadu_ps(q + i);
    const __m256 a1 = _mm256_loadu_ps(q + i + 8);
    const __m256 b0 = LoadX8<X, kMode>(x + i);
    const __m256 b1 = LoadX8<X, kMode>(x + i + 8);
    if constexpr (kL2) {
      const __m256 d0 = _mm256_sub_ps(a0, b0);
      const __m256 d1 = _mm256_sub_ps(a1, b1);
      acc0 = _mm256_fmadd_ps(d0, d0, acc0);
      acc1 = _mm256_fmadd_ps(d1, d1, acc1);
    } else {
      acc0 = _mm256_fmadd_ps(a0, b0, acc0);
      acc1 = _mm256_fmadd_ps(a1, b1, acc1);
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_loadu_ps(q + i);
    const __m256 b = LoadX8<X, kMode>(x + i);
    if constexpr (kL2) {
      const __m256 d = _mm256_sub_ps(a, b);
      acc0 = _mm256_fmadd_ps(d, d, acc0);
    } else {
      acc0 = _mm256_fmadd_ps(a, b, acc0);
    }
  }
  return HSum256(_mm256_add_ps(acc0, acc1)) + Tail(q + i, x + i, n - i);
}

template <typename T, bool kL2>
RAGKV_AVX2 float IntKernelAvx2(const void* qv, const void* xv, size_t n) {
  const T* q = static_cast<const T*>(qv);
  const T* x = static_cast<const T*>(xv);
  __m256i acc = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i qa = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i));
    const __m128i xa = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    __m256i a, b;
    if constexpr (std::is_same_v<T, uint8_t>) {
      a = _mm256_cvtepu8_epi16(qa);
      b = _mm256_cvtepu8_epi16(xa);
    } else {
      a = _mm256_cvtepi8_epi16(qa);
      b = _mm256_cvtepi8_epi16(xa);
    }
    if constexpr (kL2) {
      const __m256i d = _mm256_sub_epi16(a, b);
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(d, d));
    } else {
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
    }
  }
  float tail = kL2 ? L2IntScalar<T>(q + i, x + i, n - i) : DotIntScalar<T>(q + i, x + i, n - i);
  return static_cast<float>(HSum256i(acc)) + tail;
}

float L2F16Tail(const float* q, const uint16_t* x, size_t n) { return L2Scalar<uint16_t, HalfToFloat>(q, x, n); }
float DotF16Tail(const float* q, const uint16_t* x, size_t n) { return DotScalar<uint16_t, HalfToFloat>(q, x, n); }
float L2BF16Tail(const float* q, const uint16_t* x, size_t n) { return L2Scalar<uint16_t, BFloat16ToFloat>(q, x, n); }
float DotBF16Tail(const float* q, const uint16_t* x, size_t n) { return DotScalar<uint16_t, BFloat16ToFloat>(q, x, n); }
float L2U8FTail(const float* q, const uint8_t* x, size_t n) { return L2Scalar<uint8_t, DecodeU8>(q, x, n); }
float DotU8FTail(const float* q, const uint8_t* x, size_t n) { return DotScalar<uint8_t, DecodeU8>(q, x, n); }
float L2I8FTail(const float* q, const int8_t* x, size_t n) { return L2Scalar<int8_t, DecodeI8>(q, x, n); }
float DotI8FTail(const float* q, const int8_t* x, size_t n) { return DotScalar<int8_t, DecodeI8>(q, x, n); }

KernelTable MakeAvx2Table() {
  KernelTable t = MakeScalarTable();
  auto set = [&t](Pair p, RawKernel l2, RawKernel dot) {
    t.l2[static_cast<int>(p)] = l2;
    t.dot[static_cast<int>(p)] = dot;
  };
  set(Pair::kF32, FloatKernelAvx2<float, 0, true, L2F32Scalar>,
      FloatKernelAvx2<float, 0, false, DotF32Scalar>);
  set(Pair::kF16, FloatKernelAvx2<uint16_t, 1, true, L2F16Tail>,
      FloatKernelAvx2<uint16_t, 1, false, DotF16Tail>);
  set(Pair::kBF16, FloatKernelAvx2<uint16_t, 2, true, L2BF16Tail>,
      FloatKernelAvx2<uint16_t, 2, false, DotBF16Tail>);
  set(Pair::kU8F, FloatKernelAvx2<uint8_t, 0, true, L2U8FTail>,
      FloatKernelAvx2<uint8_t, 0, false, DotU8FTail>);
  set(Pair::kI8F, FloatKernelAvx2<int8_t, 0, true, L2I8FTail>,
      FloatKernelAvx2<int8_t, 0, false, DotI8FTail>);
  set(Pair::kU8U8, IntKernelAvx2<uint8_t, true>, IntKernelAvx2<uint8_t, false>);
  set(Pair::kI8I8, IntKernelAvx2<int8_t, true>, IntKernelAvx2<int8_t, false>);
  t.level = "avx2";
  return t;
}

// ----------------------------------------------------------------- AVX-512

// GCC 12's avx512fintrin.h builds some intrinsics on _mm512_undefined_*(),
// which trips -Wuninitialized at every inlined call site (a known false
// positive); silence it for the AVX-512 kernels only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define RAGKV_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

// Loads up to 16 stored components (mask selects the live ones) as floats.
template <typename X, int kMode>
RAGKV_AVX512 inline __m512 LoadX16(const X* x, __mmask16 m) {
  if constexpr (std::is_same_v<X, float>) {
    return _mm512_maskz_loadu_ps(m, x);
  } else if constexpr (std::is_same_v<X, uint16_t>) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, x);
    if constexpr (kMode == 2) {
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    } else {
      return _mm512_cvtph_ps(h);
    }
  } else if constexpr (std::is_same_v<X, uint8_t>) {
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, x)));
  } else {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, x)));
  }
}

template <typename X, int kMode, bool kL2>
RAGKV_AVX512 float FloatKernelAvx512(const void* qv, const void* xv, size_t n) {
  const float* q = static_cast<const float*>(qv);
  const X* x = static_cast<const X*>(xv);
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  size_t i = 0;
  constexpr __mmask16 kAll = 0xffff;
  for (; i + 32 <= n; i += 32) {
    const __m512 a0 = _mm512_loadu_ps(q + i);
    const __m512 a1 = _mm512_loadu_ps(q + i + 16);
    const __m512 b0 = LoadX16<X, kMode>(x + i, kAll);
    const __m512 b1 = LoadX16<X, kMode>(x + i + 16, kAll);
    if constexpr (kL2) {
      const __m512 d0 = _mm512_sub_ps(a0, b0);
      const __m512 d1 = _mm512_sub_ps(a1, b1);
      acc0 = _mm512_fmadd_ps(d0, d0, acc0);
      acc1 = _mm512_fmadd_ps(d1, d1, acc1);
    } else {
      acc0 = _mm512_fmadd_ps(a0, b0, acc0);
      acc1 = _mm512_fmadd_ps(a1, b1, acc1);
    }
  }
  for (; i < n; i += 16) {
    const size_t rem = n - i;
    const __mmask16 m = rem >= 16 ? kAll : static_cast<__mmask16>((1u << rem) - 1);
    const __m512 a = _mm512_maskz_loadu_ps(m, q + i);
    const __m512 b = LoadX16<X, kMode>(x + i, m);
    if constexpr (kL2) {
      const __m512 d = _mm512_sub_ps(a, b);
      acc0 = _mm512_fmadd_ps(d, d, acc0);
    } else {
      acc0 = _mm512_fmadd_ps(a, b, acc0);
    }
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

template <typename T, bool kL2>
RAGKV_AVX512 inline __m512i IntStepAvx512(__m512i acc, __m256i qa, __m256i xa) {
  __m512i a, b;
  if constexpr (std::is_same_v<T, uint8_t>) {
    a = _mm512_cvtepu8_epi16(qa);
    b = _mm512_cvtepu8_epi16(xa);
  } else {
    a = _mm512_cvtepi8_epi16(qa);
    b = _mm512_cvtepi8_epi16(xa);
  }
  if constexpr (kL2) {
    const __m512i d = _mm512_sub_epi16(a, b);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(d, d));
  } else {
    return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
  }
}

template <typename T, bool kL2>
RAGKV_AVX512 float IntKernelAvx512(const void* qv, const void* xv, size_t n) {
  const T* q = static_cast<const T*>(qv);
  const T* x = static_cast<const T*>(xv);
  __m512i acc0 = _mm512_setzero_si512();
  __m512i acc1 = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    acc0 = IntStepAvx512<T, kL2>(acc0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i)),
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
    acc1 = IntStepAvx512<T, kL2>(acc1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i + 32)),
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 32)));
  }
  for (; i < n; i += 32) {
    const size_t rem = n - i;
    const __mmask32 m = rem >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((1u << rem) - 1);
    acc0 = IntStepAvx512<T, kL2>(acc0, _mm256_maskz_loadu_epi8(m, q + i), _mm256_maskz_loadu_epi8(m, x + i));
  }
  return static_cast<float>(_mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1)));
}

KernelTable MakeAvx512Table() {
  KernelTable t = MakeAvx2Table();
  auto set = [&t](Pair p, RawKernel l2, RawKernel dot) {
    t.l2[static_cast<int>(p)] = l2;
    t.dot[static_cast<int>(p)] = dot;
  };
  set(Pair::kF32, FloatKernelAvx512<float, 0, true>, FloatKernelAvx512<float, 0, false>);
  set(Pair::kF16, FloatKernelAvx512<uint16_t, 1, true>, FloatKernelAvx512<uint16_t, 1, false>);
  set(Pair::kBF16, FloatKernelAvx512<uint16_t, 2, true>, FloatKernelAvx512<uint16_t, 2, false>);
  set(Pair::kU8F, FloatKernelAvx512<uint8_t, 0, true>, FloatKernelAvx512<uint8_t, 0, false>);
  set(Pair::kI8F, FloatKernelAvx512<int8_t, 0, true>, FloatKernelAvx512<int8_t, 0, false>);
  set(Pair::kU8U8, IntKernelAvx512<uint8_t, true>, IntKernelAvx512<uint8_t, false>);
  set(Pair::kI8I8, IntKernelAvx512<int8_t, true>, IntKernelAvx512<int8_t, false>);
  t.level = "avx512";
  return t;
}

#pragma GCC diagnostic pop

bool HasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
}

bool HasAvx512() {
  __builtin_cpu_init();
  return HasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

const KernelTable& SelectKernels() {
  const char* forced = std::getenv("RAGKV_VEC_KERNELS");
  const std::string_view want = forced ? forced : "";
  if (want == "scalar") return ScalarKernels();
  if (want != "avx2" && Avx512Kernels() != nullptr) return *Avx512Kernels();
  if (Avx2Kernels() != nullptr) return *Avx2Kernels();
  return ScalarKernels();
}

}  // namespace

const KernelTable& ScalarKernels() {
  static const KernelTable table = MakeScalarTable();
  return table;
}

const KernelTable* Avx2Kernels() {
  static const KernelTable table = MakeAvx2Table();
  static const bool supported = HasAvx2();
  return supported ? &table : nullptr;
}

const KernelTable* Avx512Kernels() {
  static const KernelTable table = MakeAvx512Table();
  static const bool supported = HasAvx512();
  return supported ? &table : nullptr;
}

const KernelTable& Kernels() {
  static const KernelTable& table = SelectKernels();
  return table;
}

// Conversions follow IEEE 754 round-to-nearest-even; NaN stays NaN, overflow
// becomes infinity (the index rejects non-finite input before encoding).
uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | (abs > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520
  if (abs < 0x38800000u) {  // subnormal half (or zero)
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t mant = (abs & 0x007fffffu) | 0x00800000u;
    const int shift = 126 - static_cast<int>(abs >> 23);  // 14 .. 24
    const uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t mid = 1u << (shift - 1);
    const uint32_t rounded = half + ((rem > mid || (rem == mid && (half & 1))) ? 1 : 0);
    return static_cast<uint16_t>(sign | rounded);
  }
  const uint32_t rebased = abs - 0x38000000u;  // exponent bias 127 -> 15
  const uint32_t half = rebased >> 13;
  const uint32_t rem = rebased & 0x1fffu;
  const uint32_t rounded = half + ((rem > 0x1000u || (rem == 0x1000u && (half & 1))) ? 1 : 0);
  return static_cast<uint16_t>(sign | rounded);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // subnormal: value = mant * 2^-24
      float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
      std::memcpy(&x, &v, 4);
      x |= sign;
    }
  } else if (exp == 31) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t FloatToBFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // NaN
  const uint32_t bias = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + bias) >> 16);
}

float BFloat16ToFloat(uint16_t b) {
  const uint32_t x = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

}  // namespace ragkv::vec::internal
