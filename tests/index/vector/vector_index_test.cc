// Names, parsing, memory accounting and stats of the public API.
#include "index/vector/vector_test_util.h"

namespace ragkv::vec {
namespace {

TEST(VectorIndexTest, NamesRoundTrip) {
  for (uint8_t i = 0; i <= static_cast<uint8_t>(ElementType::kUint8); ++i) {
    const auto t = static_cast<ElementType>(i);
    EXPECT_EQ(ParseElementType(ElementTypeName(t)), t);
  }
  EXPECT_EQ(ParseElementType("float16"), ElementType::kFloat16);
  EXPECT_EQ(ParseMetric("cosine"), Metric::kCosine);
  EXPECT_EQ(ParseMetric("IP"), Metric::kIp);
  EXPECT_EQ(ParseAlgorithm("hnsw"), Algorithm::kHnsw);
  EXPECT_FALSE(ParseMetric("manhattan").has_value());
  EXPECT_FALSE(ParseElementType("").has_value());
  EXPECT_EQ(ElementSize(ElementType::kFloat64), 8u);
  EXPECT_EQ(ElementSize(ElementType::kBFloat16), 2u);
}

TEST(VectorIndexTest, MemoryGrowsWithContentAndShrinksWithStorageType) {
  const auto data = testing::ClusteredData(1000, 256, 1);
  size_t bytes[2] = {0, 0};
  int i = 0;
  for (ElementType type : {ElementType::kFloat32, ElementType::kUint8}) {
    for (Algorithm algorithm : {Algorithm::kFlat, Algorithm::kHnsw}) {
      IndexSpec spec;
      spec.algorithm = algorithm;
      spec.dim = 256;
      spec.type = type;
      spec.initial_cap = 16;
      spec.ef_construction = 40;
      spec.quant_min = -10;
      spec.quant_max = 10;
      auto index = testing::MakeIndex(spec);
      const size_t empty = index->MemoryBytes();
      std::vector<uint64_t> labels(1000);
      for (size_t j = 0; j < labels.size(); ++j) labels[j] = j;
      ASSERT_TRUE(index->AddBatch(labels, data, 1).ok());
      const size_t full = index->MemoryBytes();
      // At least the codes themselves are counted.
      EXPECT_GE(full, empty + 1000 * 256 * ElementSize(type));
      const IndexStats stats = index->Stats();
      EXPECT_EQ(stats.live, 1000u);
      EXPECT_EQ(stats.memory_bytes, full);
      if (algorithm == Algorithm::kHnsw) {
        EXPECT_GE(stats.max_level, 1);
        EXPECT_GT(stats.edges, 1000u);
        bytes[i++] = full;
      }
    }
  }
  // At 256 dims the codes dominate: uint8 HNSW is well under half of float32.
  EXPECT_LT(bytes[1] * 2, bytes[0]);
}

TEST(VectorIndexTest, KernelLevelIsReported) {
  EXPECT_FALSE(KernelLevel().empty());
}

}  // namespace
}  // namespace ragkv::vec
