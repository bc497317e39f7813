// The embedded store (the server store over the in-process engine, with the
// engine's log in the data directory) and incremental ingest, on corpora
// written by the tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/log.h"
#include "rag/chunk_store.h"
#include "rag/embedded_engine.h"
#include "rag/ingest.h"
#include "rag/store_io.h"
#include "rag/test_util.h"
#include "server/local_client.h"
#include "server/persistence.h"

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

// The embedded engine's notices ("DB loaded from append only file") would
// fill the test log.
class EmbeddedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { log::SetLevel(log::Level::kWarning); }
  void TearDown() override { log::SetLevel(log::Level::kNotice); }
};

// The collection's keys as a `ragkv serve --dir DATA --appendonly yes` would
// load them: an Engine of its own with the server's persistence on DATA.
struct EngineOnDir {
  explicit EngineOnDir(const std::string& dir) {
    auto config = std::make_unique<server::Config>();
    EXPECT_TRUE(config->Set("dir", dir, true).ok());
    EXPECT_TRUE(config->Set("appendonly", "yes", true).ok());
    engine = std::make_unique<server::Engine>(std::move(config));
    auto p = server::Persistence::Start(*engine);
    status = p.status();
    if (p.ok()) persistence = std::move(p).value();
    client = std::make_unique<server::LocalClient>(engine.get());
  }
  resp::RespValue Run(const std::vector<std::string_view>& argv) {
    return client->Command(argv).value();
  }
  std::unique_ptr<server::Engine> engine;
  std::unique_ptr<server::Persistence> persistence;
  std::unique_ptr<server::LocalClient> client;
  Status status;
};

TEST_F(EmbeddedStoreTest, CommitThenReopenKeepsEverythingInTheEnginesLog) {
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
    EXPECT_TRUE(std::filesystem::exists(dir.path() + "/appendonlydir/appendonly.aof.manifest"));
    EXPECT_EQ(ReadWholeFile(dir.path() + "/ragkv.lock").value(), std::to_string(::getpid()) + "\n");
  }
  {
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
  // A server's engine on the same directory sees the same keys and index.
  EngineOnDir server(dir.path());
  ASSERT_TRUE(server.status.ok()) << server.status.ToString();
  EXPECT_EQ(server.Run({"HGET", "ragkv:docs:meta", "embedder"}).str, "fake");
  EXPECT_EQ(server.Run({"HGET", "ragkv:docs:file:/x/a.txt", "hash"}).str, "42");
  resp::RespValue found = server.Run({"FT.SEARCH", "ragkv:docs", "replication", "NOCONTENT"});
  ASSERT_EQ(found.elements.size(), 2u) << found.DebugString();
  EXPECT_EQ(found.elements[0].integer, 1);
  // While it holds the directory, the embedded store cannot open it.
  auto refused = OpenEmbeddedStore(dir.path(), "docs");
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
}

// Fails the first HSET of a key that starts with `prefix` (and every later
// command), like a process killed at that point of a write.
class DyingConnection : public RespConnection {
 public:
  DyingConnection(std::unique_ptr<RespConnection> inner, std::string prefix)
      : inner_(std::move(inner)), prefix_(std::move(prefix)) {}
  Result<resp::RespValue> Call(const std::vector<std::string>& args) override {
    if (dead_ || (args.size() > 1 && args[0] == "HSET" && args[1].rfind(prefix_, 0) == 0)) {
      dead_ = true;
      return Status::Unavailable("killed");
    }
    return inner_->Call(args);
  }

 private:
  std::unique_ptr<RespConnection> inner_;
  std::string prefix_;
  bool dead_ = false;
};

TEST_F(EmbeddedStoreTest, AWriteCutShortIsSkippedByReadersAndRedoneByTheNextIngest) {
  TempDir dir;
  {
    auto store = OpenEmbeddedStore(dir.path(), "docs").value();
    ASSERT_TRUE(store->BindEmbedder("fake", 2).ok());
    ASSERT_TRUE(store->PutFile({"/d/a.md", 1, 5, {}}, {Chunk("kept words")}, {Unit(2, 0)}).ok());
    // No Commit: what a call returned is in the log already.
  }
  {
    // The process dies after the chunk hashes, before the manifest entry.
    auto conn = std::make_unique<DyingConnection>(OpenEmbeddedEngine(dir.path()).value(),
                                                  "ragkv:docs:file:");
    auto store = OpenServerStore(std::move(conn), "docs").value();
    EXPECT_FALSE(store
                     ->PutFile({"/d/b.md", 2, 9, {}}, {Chunk("half words"), Chunk("written words")},
                               {Unit(2, 1), Unit(2, 1)})
                     .ok());
  }
  {
    EngineOnDir server(dir.path());
    ASSERT_TRUE(server.status.ok());
    EXPECT_EQ(server.Run({"EXISTS", "ragkv:docs:chunk:2"}).integer, 1);  // the orphans
    EXPECT_EQ(server.Run({"HGET", "ragkv:docs:pending", "/d/b.md"}).str, "2 2");
  }
  auto store = OpenEmbeddedStore(dir.path(), "docs").value();
  EXPECT_EQ(store->Sources(), std::vector<std::string>{"/d/a.md"});  // so ingest redoes b.md
  auto hits = store->TextSearch("words", 10).value();
  ASSERT_EQ(hits.size(), 1u);  // the orphans are skipped
  EXPECT_EQ(store->GetChunk(hits[0].chunk_id).value().text, "kept words");
  ASSERT_TRUE(store->PutFile({"/d/b.md", 2, 9, {}}, {Chunk("whole words")}, {Unit(2, 1)}).ok());
  ASSERT_TRUE(store->Commit().ok());
  EXPECT_EQ(store->TextSearch("words", 10).value().size(), 2u);
  EXPECT_EQ(store->TextSearch("half", 10).value().size(), 0u);  // orphans deleted
}

TEST_F(EmbeddedStoreTest, ACheckpointCompactsTheLogOnceItOutgrowsItsBase) {
  TempDir dir;
  auto store = OpenEmbeddedStore(dir.path(), "c").value();
  constexpr size_t kDim = 1024;  // 4 KiB per chunk: 300 chunks exceed 1 MiB
  ASSERT_TRUE(store->BindEmbedder("fake", kDim).ok());
  auto base_files = [&] {
    std::string manifest =
        ReadWholeFile(dir.path() + "/appendonlydir/appendonly.aof.manifest").value();
    size_t n = 0;
    for (size_t at = 0; (at = manifest.find("type b", at)) != std::string::npos; ++at) ++n;
    return n;
  };
  ASSERT_TRUE(store->PutFile({"/small", 1, 1, {}}, {Chunk("small")}, {Unit(kDim, 0)}).ok());
  ASSERT_TRUE(store->Commit().ok());
  EXPECT_EQ(base_files(), 0u);  // a few KiB: replaying it is cheaper than rewriting
  std::vector<ChunkRecord> chunks;
  std::vector<std::vector<float>> vectors;
  for (size_t i = 0; i < 300; ++i) {
    chunks.push_back(Chunk("chunk number " + std::to_string(i)));
    vectors.push_back(Unit(kDim, i));
  }
  ASSERT_TRUE(store->PutFile({"/big", 2, 2, {}}, chunks, vectors).ok());
  ASSERT_TRUE(store->Commit().ok());
  EXPECT_EQ(base_files(), 1u);  // 1.2 MiB of commands became a base snapshot
  store.reset();
  auto reopened = OpenEmbeddedStore(dir.path(), "c").value();
  EXPECT_EQ(reopened->chunk_count(), 301u);
  EXPECT_EQ(reopened->VectorSearch(Unit(kDim, 7), 1).value().size(), 1u);
}

TEST_F(EmbeddedStoreTest, PhraseOccursComparesAdjacentAnalysedWords) {
  TempDir dir;
  auto store = OpenEmbeddedStore(dir.path(), "docs");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->BindEmbedder("fake", 4).ok());
  std::vector<ChunkRecord> chunks = {Chunk("Pages are shared: copy on write."),
                                     Chunk("Consistent reads; hashing of keys."),
                                     Chunk("Hashing is consistent here.")};
  chunks[2].heading = "Skip lists";
  ASSERT_TRUE((*store)->PutFile({"/x/a.txt", 1, 1, {}}, chunks, {Unit(4, 0), Unit(4, 1), Unit(4, 2)})
                  .ok());
  auto occurs = [&](std::string_view phrase, size_t limit = 100) {
    auto r = (*store)->PhraseOccurs(phrase, limit);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  };
  EXPECT_TRUE(occurs("copy-on-write"));       // hyphens and stop words analysed away
  EXPECT_FALSE(occurs("shared pages"));  // order matters
  EXPECT_TRUE(occurs("pages shared"));
  EXPECT_FALSE(occurs("consistent hashing"));  // both words, never adjacent
  EXPECT_TRUE(occurs("skip list"));            // headings count; stems match
  EXPECT_FALSE(occurs("bloom filter"));        // words the collection lacks
  EXPECT_TRUE(occurs("hashing"));              // one word: nothing to be adjacent
  // More chunks hold both words than were fetched: counted as found.
  EXPECT_TRUE(occurs("consistent hashing", 1));

  auto holding = (*store)->ChunksHolding("hashing", 10);
  ASSERT_TRUE(holding.ok()) << holding.status().ToString();
  ASSERT_EQ(holding->size(), 2u);
  for (const ChunkRecord& c : *holding) EXPECT_THAT(c.text, HasSubstr("ashing"));
  EXPECT_EQ((*store)->ChunksHolding("hashing", 1)->size(), 1u);
  EXPECT_TRUE((*store)->ChunksHolding("the", 10)->empty());  // a stop word matches nothing
  EXPECT_TRUE((*store)->ChunksHolding("bloom", 10)->empty());
}

TEST_F(EmbeddedStoreTest, SecondOpenOfTheSameDirectoryIsRefused) {
  TempDir dir;
  auto first = OpenEmbeddedStore(dir.path(), "c");
  ASSERT_TRUE(first.ok());
  auto second = OpenEmbeddedStore(dir.path(), "c");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("data directory " + dir.path() + " is already open in this process"));
  first->reset();
  EXPECT_TRUE(OpenEmbeddedStore(dir.path(), "c").ok());
}

TEST_F(EmbeddedStoreTest, AnotherProcessHoldingTheDirectoryIsNamed) {
  TempDir dir;
  int ready[2], done[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(done), 0);
  // Forked before this process starts any thread (the log writer's).
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = OpenEmbeddedStore(dir.path(), "c");
    char c = store.ok() ? '1' : '0';
    (void)!write(ready[1], &c, 1);
    (void)!read(done[0], &c, 1);
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  EXPECT_EQ(c, '1');
  auto store = OpenEmbeddedStore(dir.path(), "c");
  (void)!write(done[1], "x", 1);
  int status = 0;
  waitpid(child, &status, 0);
  for (int fd : {ready[0], ready[1], done[0], done[1]}) close(fd);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      std::string(store.status().message()),
      HasSubstr("data directory " + dir.path() + " is in use by another ragkv process (pid " +
                std::to_string(child) + "); wait for it to finish"));
  EXPECT_TRUE(OpenEmbeddedStore(dir.path(), "c").ok());  // the child is gone
}

TEST_F(EmbeddedStoreTest, ADamagedLogIsReportedWithTheFileAndTheRepairCommand) {
  TempDir dir;
  {
    auto store = OpenEmbeddedStore(dir.path(), "c").value();
    ASSERT_TRUE(store->BindEmbedder("fake", 2).ok());
    ASSERT_TRUE(store->PutFile({"/a", 1, 1, {}}, {Chunk("one two")}, {Unit(2, 0)}).ok());
    ASSERT_TRUE(store->PutFile({"/b", 1, 1, {}}, {Chunk("three")}, {Unit(2, 1)}).ok());
    ASSERT_TRUE(store->Commit().ok());
  }
  const std::string incr = dir.path() + "/appendonlydir/appendonly.aof.1.incr.aof";
  std::string good = ReadWholeFile(incr).value();
  std::string bad = good;
  bad[bad.size() / 2] ^= 0x5A;
  ASSERT_TRUE(WriteFileDurably(incr, bad).ok());
  auto store = OpenEmbeddedStore(dir.path(), "c");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(incr));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("ragkv check-aof"));
  ASSERT_TRUE(WriteFileDurably(incr, good).ok());
  EXPECT_TRUE(OpenEmbeddedStore(dir.path(), "c").ok());
}

TEST_F(EmbeddedStoreTest, ACollectionInTheOldFormatIsAClearError) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/c/gen-000001");
  ASSERT_TRUE(WriteFileDurably(dir.path() + "/c/CURRENT", "gen-000001\n").ok());
  auto store = OpenEmbeddedStore(dir.path(), "c");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("run `ragkv ingest` again"));
  EXPECT_TRUE(OpenEmbeddedStore(dir.path(), "other").ok());
}

TEST_F(EmbeddedStoreTest, AnotherEmbedderIsAClearError) {
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
  void SetUp() override { log::SetLevel(log::Level::kWarning); }
  void TearDown() override { log::SetLevel(log::Level::kNotice); }
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

TEST_F(IngestTest, AnIngestStoppedBetweenCheckpointsRecountsTheEmbedderStatistics) {
  for (int i = 0; i < 6; ++i) {
    const std::string n = std::to_string(i);
    docs_.Write("f" + n + ".txt", "File " + n + "\n\nWords of file " + n + " and more words.");
  }
  {
    auto store = OpenEmbeddedStore(data_.path(), "c").value();
    FlakyEmbedder flaky(4);  // four files written, no commit (checkpoint after 30 s)
    EXPECT_EQ(Ingest({docs_.path()}, store.get(), &flaky, {}).status().code(),
              StatusCode::kUnavailable);
  }
  {
    auto store = OpenEmbeddedStore(data_.path(), "c").value();
    EXPECT_TRUE(store->embedder_state_stale());
    EXPECT_EQ(store->Sources().size(), 4u);
  }
  auto resumed = Run();
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->unchanged, 4u);
  EXPECT_EQ(resumed->added, 2u);

  TempDir clean_data;
  auto clean = OpenEmbeddedStore(clean_data.path(), "c").value();
  auto embedder = NewBuiltinEmbedder(64);
  ASSERT_TRUE(Ingest({docs_.path()}, clean.get(), embedder.get(), {}).ok());
  auto store = OpenEmbeddedStore(data_.path(), "c").value();
  EXPECT_FALSE(store->embedder_state_stale());
  EXPECT_EQ(store->embedder_state(), clean->embedder_state());  // the same statistics
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
