// Saved vector indexes in snapshots (docs/formats/snapshot.md, "Vector
// indexes"), driven in-process through Engine::Execute: a restart adopts each
// VECTOR field's saved index and answers exactly as before; a damaged,
// missing or mismatching section falls back to a rebuild from the keyspace
// with the same answers; AOF writes after the base update the adopted index.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include "common/crc32c.h"
#include "persistence/engine_instance.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/test_util.h"

namespace ragkv::server {
namespace {

using persistence::FaultInjectingFileSystem;
using persistence::testing::Key;
using testing::Instance;

constexpr const char* kDump = "data/dump.rks";

std::string Blob(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

std::vector<float> RandomVector(std::mt19937& rng, size_t dim) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(dim);
  for (float& x : v) x = u(rng);
  return v;
}

// FT.CREATE `name` with an HNSW field (v, 8 dims), a FLAT cosine field (w,
// 4 dims), a tag and a number over "doc:".
std::vector<std::string> CreateCommand(const std::string& name, bool skip_initial_scan) {
  std::vector<std::string> create = {"FT.CREATE", name, "ON", "HASH", "PREFIX", "1", "doc:"};
  if (skip_initial_scan) create.push_back("SKIPINITIALSCAN");
  for (const char* arg : {"SCHEMA", "tag", "TAG", "n", "NUMERIC", "v", "VECTOR", "HNSW", "10",
                          "TYPE", "FLOAT32", "DIM", "8", "DISTANCE_METRIC", "L2", "M", "8",
                          "EF_RUNTIME", "400", "w", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32",
                          "DIM", "4", "DISTANCE_METRIC", "COSINE"}) {
    create.push_back(arg);
  }
  return create;
}

// idx (CreateCommand), and flat: a second index, FLAT only, with a FILTER.
void CreateIndexes(Instance& a, bool skip_initial_scan = false) {
  ASSERT_EQ(a.Run(CreateCommand("idx", skip_initial_scan)), "+OK\r\n");
  ASSERT_EQ(a.Run({"FT.CREATE", "flat", "PREFIX", "1", "doc:", "FILTER", "@n > 3", "SCHEMA", "v",
                   "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", "8", "DISTANCE_METRIC", "IP"}),
            "+OK\r\n");
}

// Hashes doc:from .. doc:to-1; every fifth has no w, every seventh no v.
void Fill(Instance& a, int from, int to, uint32_t seed) {
  std::mt19937 rng(seed);
  for (int i = from; i < to; ++i) {
    std::vector<std::string> hset = {"HSET", Key("doc:", i), "tag", i % 2 ? "a" : "b", "n",
                                     std::to_string(i % 97)};
    const std::string v = Blob(RandomVector(rng, 8));
    const std::string w = Blob(RandomVector(rng, 4));
    if (i % 7 != 0) hset.insert(hset.end(), {"v", v});
    if (i % 5 != 0) hset.insert(hset.end(), {"w", w});
    ASSERT_EQ(a.Run(hset)[0], ':');
  }
}

// KNN replies of both indexes and all fields, plus a hybrid query; ordered by
// distance, so they do not depend on doc ids and a rebuilt index must give
// the same bytes.
std::vector<std::string> KnnReplies(Instance& a, const std::string& index = "idx") {
  std::mt19937 rng(99);
  std::vector<std::string> out;
  for (int q = 0; q < 4; ++q) {
    const std::string v = Blob(RandomVector(rng, 8));
    const std::string w = Blob(RandomVector(rng, 4));
    out.push_back(a.Run({"FT.SEARCH", index, "*=>[KNN 10 @v $q AS d]", "PARAMS", "2", "q", v,
                         "RETURN", "2", "d", "n", "DIALECT", "2"}));
    out.push_back(a.Run({"FT.SEARCH", index, "@tag:{a}=>[KNN 5 @w $q AS d]", "PARAMS", "2", "q",
                         w, "RETURN", "2", "d", "tag", "DIALECT", "2"}));
    out.push_back(a.Run({"FT.SEARCH", "flat", "*=>[KNN 7 @v $q AS d]", "PARAMS", "2", "q", v,
                         "RETURN", "1", "d", "DIALECT", "2"}));
  }
  out.push_back(a.Run({"FT.SEARCH", index, "@n:[10 50]", "NOCONTENT", "LIMIT", "0", "0"}));
  return out;
}

search::IndexManager::SavedVectorStats Stats(Instance& a) {
  return a.engine().search().saved_vector_stats();
}

void ExpectIndexesValid(Instance& a) {
  for (const char* name : {"idx", "flat"}) {
    auto index = a.engine().search().Find(name);
    ASSERT_NE(index, nullptr) << name;
    EXPECT_TRUE(index->CheckInvariants().ok()) << index->CheckInvariants().ToString();
  }
}

// Flips a byte `skip` bytes into the blob of section `name` and fixes the
// file's checksum, so that only the section's own checks can notice.
void DamageSection(FaultInjectingFileSystem& fs, const std::string& name, size_t skip) {
  std::string file = fs.Contents(kDump);
  const size_t at = file.find(name);
  ASSERT_NE(at, std::string::npos);
  ASSERT_LT(at + name.size() + skip, file.size() - 4);
  file[at + name.size() + skip] ^= 0x40;
  const uint32_t crc = crc32c::Value(file.data(), file.size() - 4);
  for (int i = 0; i < 4; ++i) file[file.size() - 4 + i] = static_cast<char>(crc >> (8 * i));
  fs.SetContents(kDump, file);
}

class VectorSnapshotTest : public ::testing::Test {
 protected:
  // Builds both indexes over 300 documents and SAVEs with the given
  // vector-index-snapshot setting; returns the answers before the restart.
  std::vector<std::string> BuildAndSave(const std::string& save_vectors) {
    Instance a(fs_, "data", "no");
    EXPECT_TRUE(a.status().ok()) << a.status().ToString();
    CreateIndexes(a);
    Fill(a, 0, 300, 1);
    EXPECT_EQ(a.Run({"CONFIG", "SET", "vector-index-snapshot", save_vectors}), "+OK\r\n");
    EXPECT_EQ(a.Run({"SAVE"}), "+OK\r\n");
    return KnnReplies(a);
  }

  FaultInjectingFileSystem fs_;
};

TEST_F(VectorSnapshotTest, RestartAdoptsEverySavedVectorFieldAndAnswersAsBefore) {
  const std::vector<std::string> before = BuildAndSave("yes");
  Instance b(fs_, "data", "no");
  ASSERT_TRUE(b.status().ok()) << b.status().ToString();
  EXPECT_EQ(Stats(b).adopted, 3u);  // idx/v, idx/w, flat/v
  EXPECT_EQ(Stats(b).rejected, 0u);
  EXPECT_EQ(KnnReplies(b), before);
  ExpectIndexesValid(b);
  // The adopted graph takes writes like any other: a new vector is its own
  // nearest neighbour, a deleted document is gone.
  const std::vector<float> mine = {9, 9, 9, 9, 9, 9, 9, 9};
  ASSERT_EQ(b.Run({"HSET", "doc:new", "v", Blob(mine), "n", "1"}), ":2\r\n");
  ASSERT_EQ(b.Run({"DEL", "doc:1"}), ":1\r\n");
  const std::string hit = b.Run({"FT.SEARCH", "idx", "*=>[KNN 1 @v $q AS d]", "PARAMS", "2", "q",
                                 Blob(mine), "NOCONTENT", "DIALECT", "2"});
  EXPECT_NE(hit.find("doc:new"), std::string::npos) << hit;
  ExpectIndexesValid(b);
  EXPECT_EQ(b.Run({"FT.SEARCH", "idx", "@n:[1 1]", "NOCONTENT"}).find("doc:1\r\n"),
            std::string::npos);
}

TEST_F(VectorSnapshotTest, WithoutSavedVectorsTheRebuiltIndexesAnswerTheSame) {
  const std::vector<std::string> before = BuildAndSave("no");
  EXPECT_EQ(fs_.Contents(kDump).find("vector-index:"), std::string::npos);
  Instance b(fs_, "data", "no");
  ASSERT_TRUE(b.status().ok()) << b.status().ToString();
  EXPECT_EQ(Stats(b).adopted, 0u);
  EXPECT_EQ(Stats(b).rejected, 0u);
  EXPECT_EQ(KnnReplies(b), before);
  ExpectIndexesValid(b);
}

TEST_F(VectorSnapshotTest, DamagedSectionIsRebuiltAndTheOthersAdopted) {
  const std::vector<std::string> before = BuildAndSave("yes");
  // Damage in the document table and in the vector index body.
  for (size_t skip : {40, 9000}) {
    const std::string intact = fs_.Contents(kDump);
    DamageSection(fs_, "vector-index:idx:v", skip);
    Instance b(fs_, "data", "no");
    ASSERT_TRUE(b.status().ok()) << b.status().ToString();
    EXPECT_EQ(Stats(b).rejected, 1u) << skip;
    EXPECT_EQ(Stats(b).adopted, 2u) << skip;
    EXPECT_EQ(KnnReplies(b), before) << skip;
    ExpectIndexesValid(b);
    fs_.SetContents(kDump, intact);
  }
}

TEST_F(VectorSnapshotTest, SectionThatDisagreesWithTheKeyspaceIsRebuilt) {
  {
    Instance a(fs_, "data", "no");
    ASSERT_TRUE(a.status().ok());
    CreateIndexes(a);
    Fill(a, 0, 300, 1);
    // Change the keyspace behind the indexes' back, as a writer bug would:
    // one indexed document gone, one unindexed document with vectors added.
    store::Db& db = a.engine().keyspace().db(0);
    ASSERT_TRUE(db.Delete("doc:10"));
    store::Object extra = store::Object::NewHash();
    std::mt19937 rng(5);
    extra.hash().emplace("v", Blob(RandomVector(rng, 8)));
    extra.hash().emplace("w", Blob(RandomVector(rng, 4)));
    extra.hash().emplace("tag", "a");
    db.Set("doc:extra", std::move(extra));
    ASSERT_EQ(a.Run({"SAVE"}), "+OK\r\n");
  }
  Instance b(fs_, "data", "no");
  ASSERT_TRUE(b.status().ok()) << b.status().ToString();
  EXPECT_EQ(Stats(b).adopted, 0u);
  EXPECT_EQ(Stats(b).rejected, 3u);
  ExpectIndexesValid(b);
  // The answer of an index built now from the same keyspace.
  ASSERT_EQ(b.Run(CreateCommand("fresh", false)), "+OK\r\n");
  EXPECT_EQ(KnnReplies(b, "idx"), KnnReplies(b, "fresh"));
  const std::string all = b.Run({"FT.SEARCH", "idx", "*", "NOCONTENT", "LIMIT", "0", "1000"});
  EXPECT_NE(all.find("doc:extra"), std::string::npos);
  EXPECT_EQ(all.find("doc:10\r\n"), std::string::npos);
}

TEST_F(VectorSnapshotTest, AofWritesAfterTheBaseUpdateTheAdoptedIndex) {
  BuildAndSave("yes");
  std::vector<std::string> expected;
  {
    // No AOF yet: the snapshot is loaded (adopted) and becomes the new log's
    // base, written with its vector sections; the writes go to the incr file.
    Instance b(fs_, "data", "yes");
    ASSERT_TRUE(b.status().ok()) << b.status().ToString();
    EXPECT_EQ(Stats(b).adopted, 3u);
    EXPECT_EQ(b.Run({"DEL", "doc:3", "doc:4"}), ":2\r\n");
    Fill(b, 100, 110, 77);  // new vectors for existing documents
    Fill(b, 300, 320, 78);  // new documents
    EXPECT_EQ(b.Run({"HDEL", "doc:200", "v"}), ":1\r\n");
    expected = KnnReplies(b);
  }
  // The base named by the manifest carries the vector sections.
  const std::string manifest = fs_.Contents("data/appendonlydir/appendonly.aof.manifest");
  const size_t end = manifest.find(".base.rks");
  ASSERT_NE(end, std::string::npos) << manifest;
  const size_t begin = manifest.rfind(' ', end) + 1;
  const std::string base = "data/appendonlydir/" + manifest.substr(begin, end + 9 - begin);
  ASSERT_NE(fs_.Contents(base).find("vector-index:idx:v"), std::string::npos) << base;
  Instance c(fs_, "data", "yes");
  ASSERT_TRUE(c.status().ok()) << c.status().ToString();
  EXPECT_EQ(Stats(c).adopted, 3u);
  EXPECT_EQ(KnnReplies(c), expected);
  ExpectIndexesValid(c);
}

TEST_F(VectorSnapshotTest, SkipInitialScanIndexKeepsExactlyItsDocuments) {
  std::vector<std::string> before;
  {
    Instance a(fs_, "data", "no");
    ASSERT_TRUE(a.status().ok());
    Fill(a, 0, 100, 1);  // written before the index: not indexed
    CreateIndexes(a, /*skip_initial_scan=*/true);
    Fill(a, 100, 200, 2);
    EXPECT_EQ(a.Run({"SAVE"}), "+OK\r\n");
    before = KnnReplies(a);
    EXPECT_EQ(a.Run({"FT.SEARCH", "idx", "*", "LIMIT", "0", "0"}), "*1\r\n:100\r\n");
  }
  Instance b(fs_, "data", "no");
  ASSERT_TRUE(b.status().ok()) << b.status().ToString();
  EXPECT_EQ(Stats(b).adopted, 3u);
  EXPECT_EQ(b.Run({"FT.SEARCH", "idx", "*", "LIMIT", "0", "0"}), "*1\r\n:100\r\n");
  EXPECT_EQ(KnnReplies(b), before);
  ExpectIndexesValid(b);
}

TEST_F(VectorSnapshotTest, VectorFieldAddedByFtAlterIsRebuiltTheOthersAdopted) {
  std::vector<std::string> before;
  {
    Instance a(fs_, "data", "no");
    ASSERT_TRUE(a.status().ok());
    CreateIndexes(a);
    Fill(a, 0, 300, 1);
    ASSERT_EQ(a.Run({"FT.ALTER", "idx", "SCHEMA", "ADD", "u", "VECTOR", "FLAT", "6", "TYPE",
                     "FLOAT32", "DIM", "4", "DISTANCE_METRIC", "L2"}),
              "+OK\r\n");
    std::mt19937 rng(3);
    for (int i = 0; i < 300; i += 2) {
      ASSERT_EQ(a.Run({"HSET", Key("doc:", i), "u", Blob(RandomVector(rng, 4))}), ":1\r\n");
    }
    ASSERT_EQ(a.Run({"SAVE"}), "+OK\r\n");
    before = KnnReplies(a);
    const std::string q = Blob({0.5f, 0.5f, 0.5f, 0.5f});
    before.push_back(a.Run({"FT.SEARCH", "idx", "*=>[KNN 9 @u $q AS d]", "PARAMS", "2", "q", q,
                            "RETURN", "1", "d", "DIALECT", "2"}));
  }
  Instance b(fs_, "data", "no");
  ASSERT_TRUE(b.status().ok()) << b.status().ToString();
  EXPECT_EQ(Stats(b).adopted, 3u);   // idx/v, idx/w, flat/v
  EXPECT_EQ(Stats(b).rejected, 1u);  // idx/u: not in FT.CREATE's schema
  std::vector<std::string> after = KnnReplies(b);
  const std::string q = Blob({0.5f, 0.5f, 0.5f, 0.5f});
  after.push_back(b.Run({"FT.SEARCH", "idx", "*=>[KNN 9 @u $q AS d]", "PARAMS", "2", "q", q,
                         "RETURN", "1", "d", "DIALECT", "2"}));
  EXPECT_EQ(after, before);
  ExpectIndexesValid(b);
}

TEST_F(VectorSnapshotTest, ConfigOption) {
  Instance a(fs_, "data", "no");
  ASSERT_TRUE(a.status().ok());
  EXPECT_EQ(a.Run({"CONFIG", "GET", "vector-index-snapshot"}),
            "*2\r\n$21\r\nvector-index-snapshot\r\n$3\r\nyes\r\n");
  EXPECT_EQ(a.Run({"CONFIG", "SET", "vector-index-snapshot", "maybe"})[0], '-');
  EXPECT_EQ(a.Run({"CONFIG", "GET", "vector-index-snapshot"}),
            "*2\r\n$21\r\nvector-index-snapshot\r\n$3\r\nyes\r\n");
  EXPECT_EQ(a.Run({"CONFIG", "SET", "vector-index-snapshot", "no"}), "+OK\r\n");
  Instance bad(fs_, "other", "no", "always", {{"vector-index-snapshot", "maybe"}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

// BGSAVE streams the sections from a forked child (real files).
TEST(VectorSnapshotForkTest, BgsaveSavesTheVectorIndexes) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "fork() under ASan can deadlock in the sanitizer allocator; "
                  "covered by the Release run";
#endif
  char tmpl[] = "/tmp/ragkv-vecsnap-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  persistence::FileSystem& fs = *persistence::DefaultFileSystem();
  std::vector<std::string> before;
  {
    Instance a(fs, dir, "no");
    ASSERT_TRUE(a.status().ok());
    CreateIndexes(a);
    Fill(a, 0, 300, 1);
    before = KnnReplies(a);
    ASSERT_EQ(a.Run({"BGSAVE"}), "+Background saving started\r\n");
    bool saved = false;
    for (int i = 0; i < 500 && !saved; ++i) {
      a.persistence().Cron();
      saved = a.persistence().InfoSection().find("rdb_saves:1\r\n") != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(saved);
  }
  {
    Instance b(fs, dir, "no");
    ASSERT_TRUE(b.status().ok()) << b.status().ToString();
    EXPECT_EQ(Stats(b).adopted, 3u);
    EXPECT_EQ(KnnReplies(b), before);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ragkv::server
