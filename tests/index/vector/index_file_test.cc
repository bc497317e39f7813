// Save/Load: round trips for both algorithms and several storage types, and
// every kind of damage (truncation at many offsets, flipped bytes, bad magic,
// missing file) gives a clean error.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "index/vector/vector_test_util.h"

namespace ragkv::vec {
namespace {

using testing::ClusteredData;
using testing::MakeIndex;

class IndexFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ragkv_vec_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void WriteAll(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  std::filesystem::path dir_;
};

std::unique_ptr<VectorIndex> Filled(Algorithm algorithm, ElementType type, size_t n) {
  IndexSpec spec;
  spec.algorithm = algorithm;
  spec.dim = 12;
  spec.type = type;
  spec.m = 8;
  spec.ef_construction = 50;
  if (type == ElementType::kUint8) {
    spec.quant_min = -10;
    spec.quant_max = 10;
  }
  auto index = MakeIndex(spec);
  const auto data = ClusteredData(n, 12, 5);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(index->Add(i * 7, std::span<const float>(data.data() + i * 12, 12)).ok());
  }
  // Leave tombstones in the file.
  for (size_t i = 0; i < n; i += 9) EXPECT_TRUE(index->Remove(i * 7).ok());
  return index;
}

TEST_F(IndexFileTest, RoundTripAnswersIdentically) {
  for (Algorithm algorithm : {Algorithm::kFlat, Algorithm::kHnsw}) {
    for (ElementType type : {ElementType::kFloat32, ElementType::kFloat16, ElementType::kUint8}) {
      auto index = Filled(algorithm, type, 400);
      const std::string path = Path("rt.idx");
      ASSERT_TRUE(index->Save(path).ok());
      auto loaded = VectorIndex::Load(path);
      ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
      EXPECT_EQ((*loaded)->size(), index->size());
      EXPECT_EQ((*loaded)->spec().type, type);
      ASSERT_TRUE((*loaded)->CheckInvariants().ok());
      const auto queries = ClusteredData(20, 12, 6);
      for (size_t i = 0; i < 20; ++i) {
        std::span<const float> q(queries.data() + i * 12, 12);
        auto a = index->Search(q, 10, {.ef = 40});
        auto b = (*loaded)->Search(q, 10, {.ef = 40});
        ASSERT_TRUE(a.ok() && b.ok());
        EXPECT_EQ(*a, *b);
      }
      // The loaded index keeps working: reuse of saved tombstones, new labels.
      const auto more = ClusteredData(50, 12, 8);
      for (size_t i = 0; i < 50; ++i) {
        ASSERT_TRUE((*loaded)->Add(100000 + i, std::span<const float>(more.data() + i * 12, 12)).ok());
      }
      ASSERT_TRUE((*loaded)->CheckInvariants().ok());
    }
  }
}

TEST_F(IndexFileTest, DamagedFilesAreCorruptionNeverACrash) {
  for (Algorithm algorithm : {Algorithm::kFlat, Algorithm::kHnsw}) {
    auto index = Filled(algorithm, ElementType::kFloat32, 60);
    const std::string path = Path("good.idx");
    ASSERT_TRUE(index->Save(path).ok());
    const std::string good = ReadAll(path);
    const std::string bad = Path("bad.idx");
    // Every truncation point in the first 200 bytes, then a stride.
    for (size_t len = 0; len < good.size(); len += (len < 200 ? 1 : 97)) {
      WriteAll(bad, good.substr(0, len));
      auto r = VectorIndex::Load(bad);
      ASSERT_FALSE(r.ok()) << "truncated to " << len;
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << len;
    }
    std::mt19937_64 rng(3);
    for (int i = 0; i < 200; ++i) {
      std::string damaged = good;
      damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
      WriteAll(bad, damaged);
      auto r = VectorIndex::Load(bad);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
  EXPECT_EQ(VectorIndex::Load(Path("missing.idx")).status().code(), StatusCode::kIOError);
  WriteAll(Path("junk.idx"), std::string(4096, 'x'));
  EXPECT_EQ(VectorIndex::Load(Path("junk.idx")).status().code(), StatusCode::kCorruption);
}

// Records what SaveTo streams, failing the n-th Append when asked.
class RecordingSink final : public ByteSink {
 public:
  explicit RecordingSink(int fail_at = -1) : fail_at_(fail_at) {}
  Status Begin(uint64_t total) override {
    ++begins;
    announced = total;
    return Status::Ok();
  }
  Status Append(std::string_view chunk) override {
    if (appends++ == fail_at_) return Status::IOError("disk full");
    largest_chunk = std::max(largest_chunk, chunk.size());
    bytes.append(chunk);
    return Status::Ok();
  }
  std::string bytes;
  uint64_t announced = 0;
  int begins = 0;
  int appends = 0;
  size_t largest_chunk = 0;

 private:
  int fail_at_;
};

TEST_F(IndexFileTest, SaveToStreamsTheFileBytesInBoundedChunks) {
  for (Algorithm algorithm : {Algorithm::kFlat, Algorithm::kHnsw}) {
    // ~3 MiB of codes, so the stream needs several chunks.
    IndexSpec spec;
    spec.algorithm = algorithm;
    spec.dim = 256;
    spec.m = 4;
    spec.ef_construction = 8;
    auto index = MakeIndex(spec);
    const auto data = ClusteredData(3000, 256, 5);
    ASSERT_TRUE(index->AddBatch(std::vector<uint64_t>([] {
                                  std::vector<uint64_t> labels(3000);
                                  for (size_t i = 0; i < labels.size(); ++i) labels[i] = i * 3;
                                  return labels;
                                }()),
                                data, 2)
                    .ok());
    RecordingSink sink;
    ASSERT_TRUE(index->SaveTo(sink).ok());
    EXPECT_EQ(sink.begins, 1);
    EXPECT_EQ(sink.announced, sink.bytes.size());
    EXPECT_GT(sink.appends, 2);
    EXPECT_LE(sink.largest_chunk, size_t{2} << 20);
    const std::string path = Path("same.idx");
    ASSERT_TRUE(index->Save(path).ok());
    EXPECT_EQ(ReadAll(path), sink.bytes);  // Save is SaveTo into a file
    auto loaded = VectorIndex::LoadFrom(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(sink.bytes.data()), sink.bytes.size()));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ((*loaded)->size(), index->size());
    // A failing sink stops the stream with its error.
    RecordingSink failing(1);
    EXPECT_EQ(index->SaveTo(failing).code(), StatusCode::kIOError);
  }
}

TEST_F(IndexFileTest, SaveToUnwritablePathIsIOError) {
  auto index = Filled(Algorithm::kFlat, ElementType::kFloat32, 10);
  EXPECT_EQ(index->Save(Path("no/such/dir/x.idx")).code(), StatusCode::kIOError);
}

}  // namespace
}  // namespace ragkv::vec
