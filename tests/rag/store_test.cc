// The embedded store and incremental ingest, on corpora written by the tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "rag/chunk_store.h"
#include "rag/ingest.h"
#include "rag/store_io.h"
#include "rag/test_util.h"

namespace ragkv::rag {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

std::vector<float> Unit(size_t dim, size_t hot) {
  std::vector<float> v(dim, 0.0f);
  v[hot % dim] = 1.0f;
  return v;
}

ChunkRecord Chunk(std::string text) {
  ChunkRecord c;
  c.title = std::string(1, 'T');
  c.text = std::move(text);
  return c;
}

TEST(EmbeddedStoreTest, CommitThenReopenKeepsEverything) {
  TempDir dir;
  {
    auto store = OpenEmbeddedStore(dir.path(), "docs");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->BindEmbedder("fake", 4).ok());
    FileEntry f{"/x/a.txt", 42, 10, {}};
    ASSERT_TRUE(
        (*store)
            ->PutFile(f, {Chunk("alpha replication"), Chunk("beta tree")}, {Unit(4, 0), Unit(4, 1)})
            .ok());
    (*store)->set_embedder_state("state-bytes");
    ASSERT_TRUE((*store)->Commit().ok());
  }
  auto store = OpenEmbeddedStore(dir.path(), "docs");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->chunk_count(), 2u);
  EXPECT_EQ((*store)->info().embedder_id, "fake");
  EXPECT_EQ((*store)->embedder_state(), "state-bytes");
  auto file = (*store)->FindFile("/x/a.txt");
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(file->content_hash, 42u);
  ASSERT_EQ(file->chunk_ids.size(), 2u);
  auto hits = (*store)->TextSearch("replication", 5);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*(*store)->GetChunk((*hits)[0].chunk_id)).text, "alpha replication");
  auto knn = (*store)->VectorSearch(Unit(4, 1), 1);
  ASSERT_TRUE(knn.ok());
  EXPECT_EQ((*(*store)->GetChunk((*knn)[0].chunk_id)).text, "beta tree");
  EXPECT_EQ((*store)->VectorSearch(Unit(3, 0), 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(EmbeddedStoreTest, UncommittedChangesAreNotVisibleAfterReopen) {
  TempDir dir;
  {
    auto store = OpenEmbeddedStore(dir.path(), "c").value();
    ASSERT_TRUE(store->BindEmbedder("fake", 2).ok());
    ASSERT_TRUE(store->PutFile({"/a", 1, 1, {}}, {Chunk("one")}, {Unit(2, 0)}).ok());
    ASSERT_TRUE(store->Commit().ok());
    ASSERT_TRUE(store->PutFile({"/b", 2, 1, {}}, {Chunk("two")}, {Unit(2, 1)}).ok());
    EXPECT_TRUE(store->RemoveFile("/a"));
    // Simulate a crash in the middle of the next commit: a half-written
    // generation directory is left behind.
    std::filesystem::create_directories(dir.path() + "/c/gen-000002.tmp");
    std::ofstream(dir.path() + "/c/gen-000002.tmp/chunks.bin") << "partial";
  }
  auto store = OpenEmbeddedStore(dir.path(), "c").value();
  EXPECT_EQ(store->Sources(), std::vector<std::string>{"/a"});
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/c/gen-000002.tmp"));
}

TEST(EmbeddedStoreTest, SecondOpenOfTheSameDirectoryIsRefused) {
  TempDir dir;
  auto first = OpenEmbeddedStore(dir.path(), "c");
  ASSERT_TRUE(first.ok());
  auto second = OpenEmbeddedStore(dir.path(), "c");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use by another ragkv process"));
  first->reset();
  EXPECT_TRUE(OpenEmbeddedStore(dir.path(), "c").ok());
}

TEST(EmbeddedStoreTest, CorruptFilesAreReportedWithTheFileName) {
  TempDir dir;
  {
    auto store = OpenEmbeddedStore(dir.path(), "c").value();
    ASSERT_TRUE(store->BindEmbedder("fake", 2).ok());
    ASSERT_TRUE(store->PutFile({"/a", 1, 1, {}}, {Chunk("one two")}, {Unit(2, 0)}).ok());
    ASSERT_TRUE(store->Commit().ok());
  }
  std::string current = ReadWholeFile(dir.path() + "/c/CURRENT").value();
  current.pop_back();
  for (std::string file : {"chunks.bin", "vectors.idx", "text.idx"}) {
    std::string path = dir.path() + "/c/" + current + "/" + file;
    std::string good = ReadWholeFile(path).value();
    std::string bad = good;
    bad[bad.size() / 2] ^= 0x5A;
    ASSERT_TRUE(WriteFileDurably(path, bad).ok());
    auto store = OpenEmbeddedStore(dir.path(), "c");
    ASSERT_FALSE(store.ok()) << file;
    EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(file));
    ASSERT_TRUE(WriteFileDurably(path, good).ok());
  }
  EXPECT_TRUE(OpenEmbeddedStore(dir.path(), "c").ok());
}

TEST(EmbeddedStoreTest, AnotherEmbedderIsAClearError) {
  TempDir dir;
  auto store = OpenEmbeddedStore(dir.path(), "c").value();
  ASSERT_TRUE(store->BindEmbedder("builtin-v1", 1024).ok());
  Status s = store->BindEmbedder("ollama:nomic-embed-text", 768);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--embedder builtin-v1"));
  EXPECT_EQ(OpenEmbeddedStore(dir.path(), "../x").status().code(), StatusCode::kInvalidArgument);
}

TEST(DocIdTest, FileNameWithoutFolderAndExtensionPercentDecoded) {
  EXPECT_EQ(DocIdFromSource("/d/hash%20coding.txt"), "hash coding");
  EXPECT_EQ(DocIdFromSource("mutex%232.txt"), "mutex#2");
  EXPECT_EQ(DocIdFromSource("/d/%2Elogin.txt"), ".login");
  EXPECT_EQ(DocIdFromSource("g%C3%B6del%2C%20kurt.txt"), "gödel, kurt");
  EXPECT_EQ(DocIdFromSource("/a/b/readme"), "readme");
  EXPECT_EQ(DocIdFromSource("bad%zz%2.txt"), "bad%zz%2");
}

class IngestTest : public ::testing::Test {
 protected:
  Result<IngestSummary> Run() {
    auto store = OpenEmbeddedStore(data_.path(), "c");
    if (!store.ok()) return store.status();
    auto embedder = NewBuiltinEmbedder(64);
    return Ingest({docs_.path()}, store->get(), embedder.get(), {});
  }
  TempDir docs_, data_;
};

TEST_F(IngestTest, IncrementalReingestAndBadFilesSkippedWithReasons) {
  docs_.Write("a.txt", "Alpha\n\nReplication copies data to other servers.");
  docs_.Write("sub/b.md", "# Bravo\nB-trees keep keys sorted.");
  docs_.Write("c.html", "<html><body><h1>Charlie</h1><p>Caches are fast.</p></body></html>");
  docs_.Write("d.pdf", testing::MakePdf("Delta page text"));
  docs_.Write("empty.txt", "");
  docs_.Write("bin.txt", std::string("\x7f"
                                     "ELF\0\0\0",
                                     7));
  docs_.Write("latin1.txt", "caf\xe9");
  docs_.Write("nobody.html", "<html><head><title>t</title></head></html>");
  docs_.Write("broken.pdf", testing::MakePdf("x").substr(0, 40));
  docs_.Write(".hidden/x.txt", "hidden files are not ingested");
  auto first = Run();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->added, 4u);
  EXPECT_EQ(first->skipped.size(), 5u);
  std::map<std::string, std::string> reasons;
  for (const auto& s : first->skipped) reasons[DocIdFromSource(s.path)] = s.reason;
  EXPECT_EQ(reasons["empty"], "empty file");
  EXPECT_EQ(reasons["bin"], "binary file");
  EXPECT_EQ(reasons["latin1"], "not valid UTF-8 at byte 3");
  EXPECT_EQ(reasons["nobody"], "HTML has no body text");
  EXPECT_THAT(reasons["broken"], HasSubstr("PDF"));

  auto again = Run();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->added + again->updated + again->removed, 0u);
  EXPECT_EQ(again->unchanged, 4u);

  docs_.Write("a.txt", "Alpha\n\nReplication now copies data to many servers.");
  std::filesystem::remove(docs_.path() + "/sub/b.md");
  auto third = Run();
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->updated, 1u);
  EXPECT_EQ(third->removed, 1u);
  EXPECT_EQ(third->unchanged, 2u);

  auto store = OpenEmbeddedStore(data_.path(), "c").value();
  EXPECT_EQ(store->Sources().size(), 3u);
  auto hits = store->TextSearch("many servers", 3).value();
  ASSERT_FALSE(hits.empty());
  ChunkRecord top = store->GetChunk(hits[0].chunk_id).value();
  EXPECT_EQ(DocIdFromSource(top.source), "a");
  EXPECT_TRUE(store->TextSearch("B-trees", 3).value().empty());
  auto pdf_hits = store->TextSearch("delta", 3).value();
  ASSERT_EQ(pdf_hits.size(), 1u);
  EXPECT_EQ(store->GetChunk(pdf_hits[0].chunk_id).value().page, 1u);
}

// Fails every Embed call after the first `budget` ones, like an Ollama that
// goes away in the middle of an ingest.
class FlakyEmbedder : public Embedder {
 public:
  explicit FlakyEmbedder(int budget) : inner_(NewBuiltinEmbedder(64)), budget_(budget) {}
  std::string id() const override { return inner_->id(); }
  size_t dim() const override { return inner_->dim(); }
  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts,
                                                EmbedPurpose purpose) override {
    if (budget_-- <= 0) return Status::Unavailable("embedder went away");
    return inner_->Embed(texts, purpose);
  }
  void ObserveCorpus(std::string_view text, int delta) override {
    inner_->ObserveCorpus(text, delta);
  }
  std::string SerializeState() const override { return inner_->SerializeState(); }
  Status RestoreState(std::string_view s) override { return inner_->RestoreState(s); }

 private:
  std::unique_ptr<Embedder> inner_;
  int budget_;
};

TEST_F(IngestTest, InterruptedIngestKeepsCheckpointsAndResumes) {
  for (int i = 0; i < 6; ++i) {
    const std::string n = std::to_string(i);
    docs_.Write(std::string(1, 'f').append(n).append(".txt"),
                std::string("File ").append(n).append("\n\nText."));
  }
  IngestOptions every_file;
  every_file.checkpoint_seconds = 0;  // commit after every file
  {
    auto store = OpenEmbeddedStore(data_.path(), "c").value();
    FlakyEmbedder flaky(4);
    auto r = Ingest({docs_.path()}, store.get(), &flaky, every_file);
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  }
  {
    auto store = OpenEmbeddedStore(data_.path(), "c").value();
    EXPECT_EQ(store->Sources().size(), 4u);  // the committed prefix, nothing half-written
    EXPECT_EQ(store->chunk_count(), 4u);
  }
  auto resumed = Run();
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->unchanged, 4u);
  EXPECT_EQ(resumed->added, 2u);
}

TEST_F(IngestTest, MissingPathIsAnErrorAndStoresNothing) {
  auto store = OpenEmbeddedStore(data_.path(), "c").value();
  auto embedder = NewBuiltinEmbedder(64);
  auto r = Ingest({docs_.path() + "/nope"}, store.get(), embedder.get(), {});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->chunk_count(), 0u);
}

}  // namespace
}  // namespace ragkv::rag
