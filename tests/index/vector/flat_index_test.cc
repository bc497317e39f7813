// FLAT: exact answers against a brute-force twin, replace/remove semantics,
// bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "index/vector/vector_index.h"

namespace ragkv::vec {
namespace {

std::vector<float> RandomVector(std::mt19937_64& rng, size_t dim) {
  std::normal_distribution<float> g;
  std::vector<float> v(dim);
  for (float& x : v) x = g(rng);
  return v;
}

float L2(std::span<const float> a, std::span<const float> b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return static_cast<float>(s);
}

std::unique_ptr<VectorIndex> MakeFlat(size_t dim, Metric metric = Metric::kL2,
                                      ElementType type = ElementType::kFloat32) {
  IndexSpec spec;
  spec.algorithm = Algorithm::kFlat;
  spec.dim = dim;
  spec.metric = metric;
  spec.type = type;
  auto index = VectorIndex::Create(spec);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  return std::move(index).value();
}

TEST(FlatIndexTest, MatchesBruteForceAcrossSeeds) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    std::mt19937_64 rng(seed);
    const size_t dim = 3 + seed * 7;
    auto index = MakeFlat(dim);
    std::vector<std::vector<float>> data;
    for (uint64_t i = 0; i < 300; ++i) {
      data.push_back(RandomVector(rng, dim));
      ASSERT_TRUE(index->Add(i * 3, data.back()).ok());
    }
    ASSERT_TRUE(index->CheckInvariants().ok());
    for (int q = 0; q < 20; ++q) {
      const auto query = RandomVector(rng, dim);
      auto got = index->Search(query, 7);
      ASSERT_TRUE(got.ok());
      std::vector<Neighbor> want;
      for (uint64_t i = 0; i < data.size(); ++i) want.push_back({i * 3, L2(query, data[i])});
      std::sort(want.begin(), want.end(), [](const Neighbor& a, const Neighbor& b) {
        return a.distance < b.distance || (a.distance == b.distance && a.label < b.label);
      });
      ASSERT_EQ(got->size(), 7u);
      for (size_t j = 0; j < 7; ++j) {
        EXPECT_EQ((*got)[j].label, want[j].label);
        EXPECT_NEAR((*got)[j].distance, want[j].distance, 1e-3 * (1 + want[j].distance));
      }
    }
  }
}

TEST(FlatIndexTest, ReplaceNeverDuplicatesAndRemoveCompacts) {
  auto index = MakeFlat(4);
  ASSERT_TRUE(index->Add(1, std::vector<float>{1, 0, 0, 0}).ok());
  ASSERT_TRUE(index->Add(2, std::vector<float>{0, 1, 0, 0}).ok());
  ASSERT_TRUE(index->Add(1, std::vector<float>{0, 0, 5, 0}).ok());
  EXPECT_EQ(index->size(), 2u);
  auto v = index->GetVector(1);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ((*v)[2], 5.0f);
  EXPECT_EQ(index->Remove(7).code(), StatusCode::kNotFound);
  ASSERT_TRUE(index->Remove(1).ok());
  EXPECT_FALSE(index->Contains(1));
  EXPECT_TRUE(index->Contains(2));
  auto hits = index->Search(std::vector<float>{0, 1, 0, 0}, 5);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].label, 2u);
  EXPECT_EQ((*hits)[0].distance, 0.0f);
  EXPECT_TRUE(index->CheckInvariants().ok());
}

TEST(FlatIndexTest, MetricsReportRediSearchDistances) {
  auto ip = MakeFlat(2, Metric::kIp);
  ASSERT_TRUE(ip->Add(1, std::vector<float>{2, 0}).ok());
  auto r = ip->Search(std::vector<float>{3, 0}, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_FLOAT_EQ((*r)[0].distance, 1.0f - 6.0f);

  auto cos = MakeFlat(2, Metric::kCosine);
  ASSERT_TRUE(cos->Add(1, std::vector<float>{2, 0}).ok());
  ASSERT_TRUE(cos->Add(2, std::vector<float>{0, 7}).ok());
  r = cos->Search(std::vector<float>{5, 5}, 2);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_NEAR((*r)[0].distance, 1.0f - std::sqrt(0.5f), 1e-6);
  EXPECT_EQ((*r)[0].label, 1u);  // tie broken by label
  EXPECT_EQ((*r)[1].label, 2u);
}

TEST(FlatIndexTest, BadInputGivesClearStatus) {
  auto index = MakeFlat(3, Metric::kCosine);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(index->Add(1, std::vector<float>{1, 2}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Add(1, std::vector<float>{1, nan, 2}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Add(1, std::vector<float>{1, inf, 2}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Add(1, std::vector<float>{0, 0, 0}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->size(), 0u);
  ASSERT_TRUE(index->Add(1, std::vector<float>{1, 2, 3}).ok());
  EXPECT_EQ(index->Search(std::vector<float>{1, 2, 3}, 0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search(std::vector<float>{1, 2}, 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search(std::vector<float>{1, 2, 3}, 5, {.ef = 2}).status().code(),
            StatusCode::kInvalidArgument);
  auto huge = index->Search(std::vector<float>{1, 2, 3}, size_t{1} << 40);
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(huge->size(), 1u);
  EXPECT_EQ(index->RangeSearch(std::vector<float>{1, 2, 3}, nan).status().code(),
            StatusCode::kInvalidArgument);

  IndexSpec bad;
  bad.dim = 0;
  EXPECT_EQ(VectorIndex::Create(bad).status().code(), StatusCode::kInvalidArgument);
  bad.dim = 4;
  bad.algorithm = Algorithm::kHnsw;
  bad.m = 1;
  EXPECT_EQ(VectorIndex::Create(bad).status().code(), StatusCode::kInvalidArgument);
}

TEST(FlatIndexTest, BlobsOfEveryTypeDecode) {
  const std::vector<float> want = {1.0f, -2.0f, 3.0f};
  for (ElementType t : {ElementType::kFloat32, ElementType::kFloat64, ElementType::kFloat16,
                        ElementType::kBFloat16, ElementType::kInt8}) {
    std::vector<std::byte> blob(3 * ElementSize(t));
    for (size_t i = 0; i < 3; ++i) {
      std::byte* p = blob.data() + i * ElementSize(t);
      if (t == ElementType::kFloat32) std::memcpy(p, &want[i], 4);
      if (t == ElementType::kFloat64) {
        const double d = want[i];
        std::memcpy(p, &d, 8);
      }
      if (t == ElementType::kInt8) *p = static_cast<std::byte>(static_cast<int8_t>(want[i]));
      if (t == ElementType::kFloat16 || t == ElementType::kBFloat16) {
        // 1, -2, 3 in binary16 and bfloat16.
        const uint16_t half[] = {0x3c00, 0xc000, 0x4200};
        const uint16_t bf[] = {0x3f80, 0xc000, 0x4040};
        std::memcpy(p, t == ElementType::kFloat16 ? &half[i] : &bf[i], 2);
      }
    }
    auto decoded = DecodeBlob(t, 3, blob);
    ASSERT_TRUE(decoded.ok()) << ElementTypeName(t);
    EXPECT_EQ(*decoded, want) << ElementTypeName(t);
    auto index = MakeFlat(3, Metric::kL2, t);
    ASSERT_TRUE(index->AddBlob(9, blob).ok());
    auto hits = index->SearchBlob(blob, 1);
    ASSERT_TRUE(hits.ok());
    EXPECT_EQ((*hits)[0].label, 9u);
    EXPECT_NEAR((*hits)[0].distance, 0.0f, 1e-5);
    EXPECT_EQ(index->AddBlob(9, std::span(blob).first(blob.size() - 1)).code(),
              StatusCode::kInvalidArgument);
  }
}

TEST(FlatIndexTest, FilterAndRangeSearch) {
  auto index = MakeFlat(1);
  for (uint64_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(index->Add(i, std::vector<float>{static_cast<float>(i)}).ok());
  }
  BitmapFilter even(100);
  for (uint64_t i = 0; i < 100; i += 2) even.Set(i);
  auto hits = index->Search(std::vector<float>{51}, 3, {.filter = &even});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 3u);
  EXPECT_EQ((*hits)[0].label, 50u);
  EXPECT_EQ((*hits)[1].label, 52u);
  EXPECT_EQ((*hits)[2].label, 48u);
  auto range = index->RangeSearch(std::vector<float>{10}, 4.0f);
  ASSERT_TRUE(range.ok());
  std::vector<uint64_t> labels;
  for (const auto& n : *range) labels.push_back(n.label);
  EXPECT_EQ(labels, (std::vector<uint64_t>{10, 9, 11, 8, 12}));
}

}  // namespace
}  // namespace ragkv::vec
