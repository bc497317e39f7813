// Every SIMD kernel level against the scalar reference: random lengths
// (including every tail length), unaligned pointers, zero vectors, large
// values; integer kernels must agree exactly. Plus the half/bfloat16
// conversions against known values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "index/vector/distance.h"

namespace ragkv::vec::internal {
namespace {

const char* PairName(int p) {
  static const char* kNames[] = {"f32", "f16", "bf16", "f64", "u8f", "i8f", "u8u8", "i8i8"};
  return kNames[p];
}

size_t StoredSize(Pair p) {
  switch (p) {
    case Pair::kF32: return 4;
    case Pair::kF16:
    case Pair::kBF16: return 2;
    case Pair::kF64: return 8;
    default: return 1;
  }
}

// Fills `bytes` with valid stored values of pair `p` (finite floats).
void FillStored(Pair p, std::mt19937_64& rng, float scale, uint8_t* out, size_t n) {
  std::uniform_real_distribution<float> u(-scale, scale);
  for (size_t i = 0; i < n; ++i) {
    const float v = u(rng);
    switch (p) {
      case Pair::kF32: std::memcpy(out + 4 * i, &v, 4); break;
      case Pair::kF16: {
        const uint16_t h = FloatToHalf(v);
        std::memcpy(out + 2 * i, &h, 2);
        break;
      }
      case Pair::kBF16: {
        const uint16_t h = FloatToBFloat16(v);
        std::memcpy(out + 2 * i, &h, 2);
        break;
      }
      case Pair::kF64: {
        const double d = v;
        std::memcpy(out + 8 * i, &d, 8);
        break;
      }
      default: out[i] = static_cast<uint8_t>(rng()); break;
    }
  }
}

bool IsInteger(Pair p) { return p == Pair::kU8U8 || p == Pair::kI8I8; }

void CompareLevel(const KernelTable& level) {
  const KernelTable& ref = ScalarKernels();
  std::mt19937_64 rng(1234);
  std::vector<size_t> lengths = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128,
                                 129, 784, 1000};
  for (int i = 0; i < 40; ++i) lengths.push_back(rng() % 300);
  for (int p = 0; p < static_cast<int>(Pair::kCount); ++p) {
    const Pair pair = static_cast<Pair>(p);
    const size_t qsize = IsInteger(pair) ? 1 : 4;
    const size_t xsize = StoredSize(pair);
    for (size_t n : lengths) {
      for (size_t offset : {0, 1, 3}) {  // byte offsets: unaligned loads
        for (int mode = 0; mode < 3; ++mode) {  // random, zero query, large values
          const float scale = mode == 2 ? 1e3f : 1.0f;
          std::vector<uint8_t> qbuf(n * qsize + 8), xbuf(n * xsize + 8);
          uint8_t* q = qbuf.data() + offset;
          uint8_t* x = xbuf.data() + offset;
          if (IsInteger(pair)) {
            FillStored(pair, rng, scale, q, n);
          } else {
            FillStored(Pair::kF32, rng, scale, q, n);
          }
          if (mode == 1) std::memset(q, 0, n * qsize);
          FillStored(pair, rng, scale, x, n);
          for (int which = 0; which < 2; ++which) {
            const RawKernel k = which == 0 ? level.l2[p] : level.dot[p];
            const RawKernel r = which == 0 ? ref.l2[p] : ref.dot[p];
            const float got = k(q, x, n);
            const float want = r(q, x, n);
            if (IsInteger(pair)) {
              EXPECT_EQ(got, want) << level.level << " " << PairName(p) << " n=" << n;
            } else {
              // Summation order differs; bound by the magnitude of the terms.
              const float tol = 1e-5f * (std::fabs(want) + scale * scale * static_cast<float>(n)) +
                                1e-6f;
              EXPECT_NEAR(got, want, tol) << level.level << " " << PairName(p) << " n=" << n
                                          << (which == 0 ? " l2" : " dot");
            }
          }
        }
      }
    }
  }
}

TEST(DistanceTest, Avx2MatchesScalar) {
  if (Avx2Kernels() == nullptr) GTEST_SKIP() << "no AVX2 on this CPU";
  CompareLevel(*Avx2Kernels());
}

TEST(DistanceTest, Avx512MatchesScalar) {
  if (Avx512Kernels() == nullptr) GTEST_SKIP() << "no AVX-512 on this CPU";
  CompareLevel(*Avx512Kernels());
}

TEST(DistanceTest, ScalarKernelsAreCorrect) {
  const float q[] = {1, 2, 3};
  const float x[] = {4, 6, 3};
  EXPECT_EQ(ScalarKernels().l2[0](q, x, 3), 9.0f + 16.0f);
  EXPECT_EQ(ScalarKernels().dot[0](q, x, 3), 4.0f + 12.0f + 9.0f);
  const uint8_t a[] = {0, 255, 10};
  const uint8_t b[] = {255, 0, 10};
  EXPECT_EQ(ScalarKernels().l2[static_cast<int>(Pair::kU8U8)](a, b, 3), 2.0f * 255 * 255);
  const int8_t c[] = {-128, 127};
  const int8_t d[] = {-128, -128};
  EXPECT_EQ(ScalarKernels().dot[static_cast<int>(Pair::kI8I8)](c, d, 2),
            128.0f * 128 - 127.0f * 128);
}

TEST(DistanceTest, HalfAndBFloat16Conversions) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(1e6f), 0x7c00);                     // overflow to infinity
  EXPECT_EQ(FloatToHalf(5.9604644775390625e-8f), 0x0001);   // smallest subnormal
  EXPECT_EQ(FloatToHalf(1e-10f), 0x0000);                   // underflow to zero
  EXPECT_EQ(HalfToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(HalfToFloat(0x0001), 5.9604644775390625e-8f);
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(std::nanf("")))));
  // Every finite half survives a round trip through float.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00) continue;
    EXPECT_EQ(FloatToHalf(HalfToFloat(static_cast<uint16_t>(h))), h);
  }
  EXPECT_EQ(FloatToBFloat16(1.0f), 0x3f80);
  EXPECT_EQ(BFloat16ToFloat(0x4040), 3.0f);
  EXPECT_EQ(FloatToBFloat16(1.00390625f), 0x3f80);  // tie rounds to even
  EXPECT_TRUE(std::isnan(BFloat16ToFloat(FloatToBFloat16(std::nanf("")))));
}

TEST(DistanceTest, DispatchPicksASupportedLevel) {
  const std::string_view level = Kernels().level;
  EXPECT_TRUE(level == "scalar" || level == "avx2" || level == "avx512");
  if (level == "avx512") {
    EXPECT_NE(Avx512Kernels(), nullptr);
  }
}

}  // namespace
}  // namespace ragkv::vec::internal
