// End-to-end retrieval quality on FOLDOC (shared/datasets/foldoc): convert the
// Debian dict-foldoc data with the dataset's own script, ingest it once with
// the builtin embedder, evaluate the dev questions and the two further
// held-out sets (tests/rag/data/foldoc_heldout*.jsonl) and hold the numbers
// reached (docs/rag.md). Skipped, with the reason printed, when the data or python3
// is not on the machine.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>

#include "rag/chunk_store.h"
#include "rag/eval.h"
#include "rag/ingest.h"
#include "rag/retriever.h"
#include "rag/store_io.h"
#include "rag/test_util.h"

namespace ragkv::rag {
namespace {

namespace fs = std::filesystem;

std::string SharedDataset() {
  const std::string dataset = std::string(RAGKV_SOURCE_DIR) + "/../shared/datasets/foldoc";
  return fs::exists(dataset) ? dataset : "/work/shared/datasets/foldoc";
}

// One ingest of the whole corpus (a few seconds) shared by every test here.
class FoldocQualityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string shared = SharedDataset();
    if (!fs::exists("/usr/share/dictd/foldoc.dict.dz")) {
      skip_reason_ = new std::string("dict-foldoc is not installed (apt-get install dict-foldoc)");
      return;
    }
    if (!fs::exists(shared + "/foldoc_to_files.py")) {
      skip_reason_ = new std::string("FOLDOC dataset folder not found at " + shared);
      return;
    }
    dir_ = new testing::TempDir();
    const std::string docs = dir_->path() + "/docs";
    const std::string cmd =
        "python3 " + shared + "/foldoc_to_files.py " + docs + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      skip_reason_ = new std::string("could not run foldoc_to_files.py");
      return;
    }
    store_ = OpenEmbeddedStore(dir_->path() + "/data", "foldoc").value().release();
    embedder_ = NewBuiltinEmbedder().release();
    auto summary = Ingest({docs}, store_, embedder_, {});
    ingested_ = summary.ok() ? summary->added : 0;
    if (summary.ok() && summary->calibration) threshold_ = summary->calibration->threshold;
  }

  static void TearDownTestSuite() {
    delete store_;  // before its directory goes
    delete embedder_;
    delete dir_;
    delete skip_reason_;
    store_ = nullptr;
    embedder_ = nullptr;
    dir_ = nullptr;
    skip_reason_ = nullptr;
  }

  void SetUp() override {
    if (skip_reason_ != nullptr) GTEST_SKIP() << *skip_reason_;
    ASSERT_EQ(ingested_, 12014u);
  }

  // Runs every question through the shipped retrieval settings (the threshold
  // calibrated at ingest) and scores the
  // top 10 distinct entries the way shared/datasets/foldoc/score.py does.
  static EvalReport Run(const std::string& questions_path) {
    auto questions = ParseQuestions(ReadWholeFile(questions_path).value());
    EXPECT_TRUE(questions.ok()) << questions.status().ToString();
    if (!questions.ok()) return {};
    auto retriever = Retriever::Create(store_, embedder_);
    EXPECT_TRUE(retriever.ok());
    if (!retriever.ok()) return {};
    EXPECT_TRUE(retriever->calibrated());
    std::vector<EvalRun> runs;
    for (const EvalQuestion& q : *questions) {
      auto r = retriever->Retrieve(q.question, 50);
      EXPECT_TRUE(r.ok());
      EvalRun run;
      if (r.ok()) {
        std::set<std::string> seen;
        for (const auto& h : r->hits) {
          std::string id = DocIdFromSource(h.chunk.source);
          if (seen.insert(id).second && run.ranked.size() < 10) run.ranked.push_back(id);
        }
        run.abstain = r->abstain;
        run.confidence = r->confidence;
      }
      runs.push_back(std::move(run));
    }
    EvalReport report = Evaluate(*questions, runs, 10);
    std::printf("%s", FormatReport(report).c_str());
    return report;
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline ChunkStore* store_ = nullptr;
  static inline Embedder* embedder_ = nullptr;
  static inline std::string* skip_reason_ = nullptr;
  static inline size_t ingested_ = 0;
  static inline double threshold_ = -1;
};

// The ingest fits the abstention threshold on pseudo-questions from FOLDOC
// itself (0.171 with the default seed when this test was written, next to
// the 0.18 set by hand on dev half A in session 1); a value far from that
// means the calibration changed.
TEST_F(FoldocQualityTest, IngestCalibratesTheAbstentionThreshold) {
  EXPECT_GE(threshold_, 0.12);
  EXPECT_LE(threshold_, 0.24);
}

TEST_F(FoldocQualityTest, BuiltinEmbedderMeetsTheDevSetThresholds) {
  EvalReport report = Run(SharedDataset() + "/dev_questions.jsonl");
  // Reached when this test was written (docs/rag.md); a drop is a regression.
  EXPECT_GE(report.answerable.ndcg, 0.79);
  EXPECT_GE(report.unanswerable_abstained, 6u);  // 5 before the named-subject rule
  EXPECT_LE(report.answerable_abstained, 2u);  // 32/34 answered with the calibrated threshold
}

// The second held-out set, judged from the corpus before any run. Its
// unanswerable questions name concepts built from common words (skip list,
// Bloom filter, consistent hashing) that the term-level confidence cannot
// tell from a paraphrase: 2 of 6 were declined on that alone; the
// named-subject rule (a name no document holds as a phrase) declines all 6
// (docs/rag.md). These floors hold what was reached.
TEST_F(FoldocQualityTest, BuiltinEmbedderOnTheSecondHeldOutSet) {
  EvalReport report =
      Run(std::string(RAGKV_SOURCE_DIR) + "/tests/rag/data/foldoc_heldout.jsonl");
  EXPECT_EQ(report.answerable.n, 31u);
  EXPECT_EQ(report.unanswerable, 6u);
  EXPECT_GE(report.answerable.ndcg, 0.84);
  EXPECT_GE(report.unanswerable_abstained, 6u);
  EXPECT_LE(report.answerable_abstained * 10, report.answerable.n);  // >= 90% answered
}

// The third set, written to check abstention rules on questions none was
// designed on (tests/rag/data/README.md): 4 of 10 declined when this test was
// written, 9 with the named-subject rule (the CAP theorem slips through: the
// best chunk is about "CAP", so the rule cannot tell a name from a verb).
TEST_F(FoldocQualityTest, BuiltinEmbedderOnTheThirdHeldOutSet) {
  EvalReport report =
      Run(std::string(RAGKV_SOURCE_DIR) + "/tests/rag/data/foldoc_heldout2.jsonl");
  EXPECT_EQ(report.answerable.n, 13u);
  EXPECT_EQ(report.unanswerable, 10u);
  EXPECT_GE(report.answerable.ndcg, 0.88);
  EXPECT_GE(report.unanswerable_abstained, 9u);
  EXPECT_LE(report.answerable_abstained * 10, report.answerable.n);  // >= 90% answered
}

// The fourth set, written in session 3 before the named-subject rule ever
// ran on it (tests/rag/data/README.md): 10 of 14 declined (6 without the
// rule), all 22 answerable answered. Its misses: a possessive name
// ("Nagle's algorithm") and three questions that describe their subject.
TEST_F(FoldocQualityTest, BuiltinEmbedderOnTheFourthHeldOutSet) {
  EvalReport report =
      Run(std::string(RAGKV_SOURCE_DIR) + "/tests/rag/data/foldoc_heldout3.jsonl");
  EXPECT_EQ(report.answerable.n, 22u);
  EXPECT_EQ(report.unanswerable, 14u);
  EXPECT_GE(report.answerable.ndcg, 0.87);
  EXPECT_GE(report.unanswerable_abstained, 10u);
  EXPECT_LE(report.answerable_abstained * 10, report.answerable.n);  // >= 90% answered
}

}  // namespace
}  // namespace ragkv::rag
