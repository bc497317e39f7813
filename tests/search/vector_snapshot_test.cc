// The saved form of VECTOR fields (search/vector_snapshot.h): decoding a blob
// that SaveVectorFields wrote, rejection of every truncation and of damage
// that keeps the blob's checksum valid (so the structural checks are what
// catch it), and BeginAdoption's checks of the schema.
#include <gtest/gtest.h>

#include <random>

#include "common/crc32c.h"
#include "search/schema.h"
#include "search/search_index.h"

namespace ragkv::search {
namespace {

std::unique_ptr<SearchIndex> MakeIndex(const std::string& algorithm, const std::string& dim) {
  std::vector<std::string> args = {
      "idx", "SCHEMA", "t",       "TAG", "v", "VECTOR",          algorithm,
      "6",   "TYPE",   "FLOAT32", "DIM", dim, "DISTANCE_METRIC", "L2"};
  std::vector<std::string_view> views(args.begin(), args.end());
  auto schema = ParseFtCreate(views);
  EXPECT_TRUE(schema.ok());
  auto index = SearchIndex::Create(std::move(*schema), 2);
  EXPECT_TRUE(index.ok());
  return std::move(*index);
}

// "k" + i. (Spelled out: g++ 12 warns wrongly about `"k" + std::to_string(i)`
// under -O2, -Wrestrict, GCC PR 105651.)
std::string Key(int i) {
  std::string key = "k";
  key += std::to_string(i);
  return key;
}

store::HashMap Doc(std::mt19937& rng, bool with_vector) {
  std::uniform_real_distribution<float> u(-1, 1);
  float v[4] = {u(rng), u(rng), u(rng), u(rng)};
  store::HashMap hash;
  hash.emplace("t", "x");
  if (with_vector) hash.emplace("v", std::string(reinterpret_cast<const char*>(v), sizeof(v)));
  return hash;
}

struct CollectingSink : SavedFieldSink {
  Status Begin(std::string_view attribute, uint64_t bytes) override {
    attributes.emplace_back(attribute);
    announced = bytes;
    return Status::Ok();
  }
  Status Append(std::string_view chunk) override {
    blob.append(chunk);
    return Status::Ok();
  }
  std::vector<std::string> attributes;
  uint64_t announced = 0;
  std::string blob;
};

// An index of 40 documents (every fourth without a vector) after some
// removals, and its saved blob.
std::string SavedBlob(const std::string& algorithm) {
  auto index = MakeIndex(algorithm, "4");
  std::mt19937 rng(11);
  for (int i = 0; i < 40; ++i) index->Upsert(Key(i), Doc(rng, i % 4 != 0));
  index->Remove("k5");
  index->Remove("k6");
  CollectingSink sink;
  EXPECT_TRUE(index->SaveVectorFields(sink).ok());
  EXPECT_EQ(sink.attributes, std::vector<std::string>{"v"});
  EXPECT_EQ(sink.announced, sink.blob.size());
  return sink.blob;
}

void FixChecksum(std::string* blob) {
  if (blob->size() < 4) return;
  const uint32_t crc = crc32c::Value(blob->data(), blob->size() - 4);
  for (int i = 0; i < 4; ++i) (*blob)[blob->size() - 4 + i] = static_cast<char>(crc >> (8 * i));
}

TEST(SavedVectorFieldTest, DecodesWhatWasSaved) {
  for (const char* algorithm : {"FLAT", "HNSW"}) {
    auto saved = DecodeSavedVectorField(SavedBlob(algorithm));
    ASSERT_TRUE(saved.ok()) << saved.status().ToString();
    EXPECT_EQ(saved->index_name, "idx");
    EXPECT_EQ(saved->db, 2);
    EXPECT_EQ(saved->attribute, "v");
    EXPECT_EQ(saved->docs.size(), 38u);
    EXPECT_EQ(saved->next_doc_id, 41u);
    EXPECT_EQ(saved->index->size(), 30u - 2u);  // k0, k4, ... k36 have no vector; k5, k6 gone
    for (const auto& [id, key] : saved->docs) EXPECT_NE(key, "k5");
  }
}

TEST(SavedVectorFieldTest, EveryTruncationAndStructuralDamageIsCorruption) {
  for (const char* algorithm : {"FLAT", "HNSW"}) {
    const std::string good = SavedBlob(algorithm);
    for (size_t len = 0; len < good.size(); ++len) {
      std::string cut = good.substr(0, len);
      FixChecksum(&cut);  // only the structure can tell
      auto r = DecodeSavedVectorField(cut);
      ASSERT_FALSE(r.ok()) << algorithm << " cut at " << len;
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
    std::mt19937 rng(4);
    for (int i = 0; i < 2000; ++i) {
      std::string damaged = good;
      damaged[rng() % (damaged.size() - 4)] ^= static_cast<char>(1 + rng() % 255);
      auto r = DecodeSavedVectorField(damaged);
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);  // the blob's checksum
      FixChecksum(&damaged);
      r = DecodeSavedVectorField(damaged);
      // A changed key byte or vector component is structurally valid; any
      // other outcome must be a clean kCorruption with the index intact.
      if (r.ok()) {
        EXPECT_TRUE(r->index->CheckInvariants().ok());
      } else {
        EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
      }
    }
  }
}

TEST(SavedVectorFieldTest, AdoptionChecksTheSchemaAndResetsOnFailure) {
  const std::string blob = SavedBlob("HNSW");
  // Other vector parameters (a FLAT field, another dimension): rejected, and
  // the index is left empty and usable for a normal scan.
  for (auto [algorithm, dim] : {std::pair{"FLAT", "4"}, std::pair{"HNSW", "8"}}) {
    auto index = MakeIndex(algorithm, dim);
    auto saved = DecodeSavedVectorField(blob);
    ASSERT_TRUE(saved.ok());
    std::vector<SavedVectorField> fields;
    fields.push_back(std::move(*saved));
    Status s = index->BeginAdoption(std::move(fields));
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(s.message().find("field v"), std::string::npos) << s.message();
    EXPECT_FALSE(index->adopting());
    EXPECT_EQ(index->size(), 0u);
    EXPECT_TRUE(index->CheckInvariants().ok()) << index->CheckInvariants().ToString();
  }
  // Matching parameters but the documents do not all come back.
  auto index = MakeIndex("HNSW", "4");
  auto saved = DecodeSavedVectorField(blob);
  ASSERT_TRUE(saved.ok());
  std::vector<SavedVectorField> fields;
  fields.push_back(std::move(*saved));
  ASSERT_TRUE(index->BeginAdoption(std::move(fields)).ok());
  std::mt19937 rng(11);
  for (int i = 0; i < 20; ++i) {
    const store::HashMap doc = Doc(rng, i % 4 != 0);
    if (i != 5 && i != 6) index->Upsert(Key(i), doc);
  }
  Status s = index->FinishAdoption();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("38 documents saved, 18 in the keyspace"), std::string::npos)
      << s.message();
  EXPECT_EQ(index->size(), 0u);
  EXPECT_TRUE(index->CheckInvariants().ok()) << index->CheckInvariants().ToString();
}

}  // namespace
}  // namespace ragkv::search
