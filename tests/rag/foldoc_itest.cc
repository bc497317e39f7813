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

// "How does <one-word name> <verb> ...": the named-subject rule's first
// version declined 9 of these 15 (it took "DHCP assign" for a name no entry
// holds); the verb test reads "assign" as the verb FOLDOC uses it as. The one
// left: FOLDOC never uses "partition" as a verb.
TEST_F(FoldocQualityTest, QuestionsNamingOneWordAndAVerbAreAnswered) {
  auto retriever = Retriever::Create(store_, embedder_);
  ASSERT_TRUE(retriever.ok());
  size_t declined = 0;
  for (const char* q :
       {"How does DHCP assign IP addresses?", "How does TCP guarantee delivery?",
        "How does ARP find a hardware address?", "How does NFS share files between machines?",
        "How does DNS resolve host names?", "How does Ethernet detect collisions?",
        "How does RAID protect data against disk failure?", "How does SMTP deliver mail?",
        "How does malloc allocate memory?", "How does paging work?",
        "How do semaphores prevent race conditions?", "How does Kerberos authenticate users?",
        "What does awk do with each line?", "How does quicksort partition an array?",
        "How does garbage collection reclaim memory?"}) {
    auto r = retriever->Retrieve(q, 10);
    ASSERT_TRUE(r.ok());
    if (r->abstain) {
      ++declined;
      std::printf("declined: %s (%s)\n", q,
                  r->unknown_terms.empty() ? "confidence" : r->unknown_terms[0].c_str());
    }
  }
  EXPECT_LE(declined, 1u);
}

// A held-out set under tests/rag/data: its size, and floors that hold what
// was reached (a drop is a regression), with >= 90% of answerable answered.
struct HeldOutFloors {
  const char* file;
  size_t answerable;
  size_t unanswerable;
  double ndcg;
  size_t declined;
};

void ExpectHeldOutFloors(const EvalReport& report, const HeldOutFloors& f) {
  SCOPED_TRACE(f.file);
  EXPECT_EQ(report.answerable.n, f.answerable);
  EXPECT_EQ(report.unanswerable, f.unanswerable);
  EXPECT_GE(report.answerable.ndcg, f.ndcg);
  EXPECT_GE(report.unanswerable_abstained, f.declined);
  EXPECT_LE(report.answerable_abstained * 10, report.answerable.n);
}

// Judged from the corpus before any run (tests/rag/data/README.md).
// - foldoc_heldout: unanswerable questions name concepts built from common
//   words (skip list, Bloom filter, consistent hashing) that the term-level
//   confidence cannot tell from a paraphrase: 2 of 6 were declined on that
//   alone; the named-subject rule (a name no document holds as a phrase)
//   declines all 6 (docs/rag.md).
// - foldoc_heldout2, written to check abstention rules on questions none was
//   designed on: 4 of 10 declined before the rule, 9 with it (the CAP
//   theorem slips through: the best chunk is FOLDOC's "CAP" entry).
// - foldoc_heldout3, written in session 3 before the rule ever ran on it: 6
//   of 14 declined before the rule, 10 with it; all 22 answerable answered.
//   Its misses: three questions that describe their subject instead of
//   naming it, and Nagle's algorithm, which FOLDOC does describe.
// - foldoc_heldout4, written before the rule's verb test ran on it: 12/12
//   declined (8 without the rule); the verb test alone declined 3 of its 28
//   answerable ("How does Samba let ...": FOLDOC's "let" is a keyword), so
//   the best chunk mentioning the name now counts too: 28/28 answered.
// - foldoc_heldout5, written before that final version ran on it: 11/12
//   declined (8 without the rule), 28/28 answered. Its miss: "How does read
//   repair ...", whose best chunk mentions "read".
TEST_F(FoldocQualityTest, BuiltinEmbedderOnTheHeldOutSets) {
  for (const HeldOutFloors& f : {HeldOutFloors{"foldoc_heldout.jsonl", 31, 6, 0.84, 6},
                                 HeldOutFloors{"foldoc_heldout2.jsonl", 13, 10, 0.88, 9},
                                 HeldOutFloors{"foldoc_heldout3.jsonl", 22, 14, 0.87, 10},
                                 HeldOutFloors{"foldoc_heldout4.jsonl", 28, 12, 0.92, 12},
                                 HeldOutFloors{"foldoc_heldout5.jsonl", 28, 12, 0.85, 11}}) {
    ExpectHeldOutFloors(Run(std::string(RAGKV_SOURCE_DIR) + "/tests/rag/data/" + f.file), f);
  }
}

}  // namespace
}  // namespace ragkv::rag
