// Retrieval, abstention, the extractive answerer and the response/transcript
// formats, on a corpus made here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rag/generator.h"
#include "rag/ingest.h"
#include "rag/retriever.h"
#include "rag/store_io.h"
#include "rag/test_util.h"

namespace ragkv::rag {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class AnswerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    docs_.Write("replication.md",
                "# Replication\n"
                "Replication keeps copies of the same data on several servers. Its purpose is "
                "availability: when one server fails, another one still has the data.\n\n"
                "Synchronous replication waits for the copies before a commit returns.\n");
    docs_.Write("btree.txt",
                "B-tree\n\nA B-tree is a balanced search tree whose nodes hold many keys. "
                "Databases use B-trees for indexes because they keep keys sorted.\n");
    docs_.Write("cache.html",
                "<html><head><title>Caches</title></head><body><h1>Caching</h1>"
                "<p>A cache is a small fast memory holding recently used data. The cache sits "
                "in front of the disk, and a full cache evicts old lines.</p></body></html>");
    docs_.Write("recovery.txt",
                "Recovery\n\nAfter a crash the system must recover. Operators can recover a "
                "table from a backup, and tools exist to recover single files.\n");
    for (int i = 0; i < 20; ++i) {
      docs_.Write("filler" + std::to_string(i) + ".txt",
                  "Filler " + std::to_string(i) +
                      "\n\nThis page talks about servers, memory "
                      "and data in general terms, number " +
                      std::to_string(i) + ".");
    }
    store_ = OpenEmbeddedStore(data_.path(), "c").value();
    embedder_ = NewBuiltinEmbedder(256);
    ASSERT_TRUE(Ingest({docs_.path()}, store_.get(), embedder_.get(), {}).ok());
  }

  Retrieval Retrieve(const std::string& q, size_t k = 3) {
    auto retriever = Retriever::Create(store_.get(), embedder_.get());
    EXPECT_TRUE(retriever.ok());
    auto r = retriever->Retrieve(q, k);
    EXPECT_TRUE(r.ok());
    return *r;
  }

  testing::TempDir docs_, data_;
  std::unique_ptr<ChunkStore> store_;
  std::unique_ptr<Embedder> embedder_;
};

TEST_F(AnswerTest, HybridRetrievalFindsTheRightDocumentFirst) {
  Retrieval r = Retrieve("What is the purpose of data replication?");
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(DocIdFromSource(r.hits[0].chunk.source), "replication");
  EXPECT_GT(r.hits[0].text_rank, 0);
  EXPECT_GT(r.hits[0].vector_rank, 0);
  EXPECT_FALSE(r.abstain);
  EXPECT_GT(r.confidence, 0.5);
  EXPECT_EQ(DocIdFromSource(Retrieve("Why do databases use B-trees?").hits[0].chunk.source),
            "btree");
}

TEST_F(AnswerTest, QuestionsAboutUnknownThingsAbstainAndSayWhy) {
  Retrieval r = Retrieve("How does the AVL tree keep keys balanced?");
  EXPECT_TRUE(r.abstain);
  EXPECT_THAT(r.unknown_terms, ::testing::ElementsAre("AVL"));
  std::string response = FormatResponse("", r, 0.18, "");
  EXPECT_THAT(response, HasSubstr("The documents do not contain the answer"));
  EXPECT_THAT(response, HasSubstr("no document mentions \"AVL\""));
  EXPECT_THAT(response, Not(HasSubstr("Sources:")));
}

TEST_F(AnswerTest, ANamedSubjectNoDocumentHoldsAsAPhraseAbstains) {
  // "synchronous" and "cache" both occur, never together.
  Retrieval r = Retrieve("How does a synchronous cache keep data on servers?");
  EXPECT_TRUE(r.abstain);
  EXPECT_THAT(r.unknown_terms, ::testing::ElementsAre("synchronous cache"));
  EXPECT_THAT(FormatResponse("", r, 0.18, ""),
              HasSubstr("no document mentions \"synchronous cache\""));
  // A hyphenated name is one word, whole or spelled apart in the text.
  EXPECT_THAT(Retrieve("What is a cache-replication index?").unknown_terms,
              ::testing::ElementsAre("cache-replication"));
  EXPECT_TRUE(Retrieve("What is a B-tree, and why do databases use it?").unknown_terms.empty());
  // Names the collection holds as phrases, in any inflection, are answered.
  Retrieval known = Retrieve("How does synchronous replication wait for copies?");
  EXPECT_FALSE(known.abstain);
  EXPECT_TRUE(known.unknown_terms.empty());
  EXPECT_FALSE(Retrieve("What are B-trees used for in databases?").abstain);
  // A possessive name, found and not found.
  EXPECT_THAT(Retrieve("How does Filler's memory hold data?").unknown_terms,
              ::testing::ElementsAre("Filler's memory"));
  // Off: only the confidence and unknown single terms decide.
  auto retriever = Retriever::Create(store_.get(), embedder_.get(),
                                     RetrievalOptions{.abstain_on_unknown_subject = false});
  ASSERT_TRUE(retriever.ok());
  EXPECT_TRUE(
      retriever->Retrieve("How does a synchronous cache keep data on servers?", 3)->unknown_terms.empty());
}

TEST_F(AnswerTest, AOneWordNameFollowedByAVerbIsNotTakenForAnUnknownPair) {
  // "Availability recovers" never occurs, and the best chunk (recovery.txt)
  // does not mention availability; but the collection uses "recover" as a
  // verb ("must recover", "can recover", "to recover"), so the question
  // names availability alone.
  Retrieval r = Retrieve("How does availability recover a table from a backup?");
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(DocIdFromSource(r.hits[0].chunk.source), "recovery");
  EXPECT_FALSE(r.abstain);
  EXPECT_TRUE(r.unknown_terms.empty());
  // "cache" is never used as a verb: "availability cache" reads as a name.
  EXPECT_THAT(Retrieve("How does availability cache recently used data?").unknown_terms,
              ::testing::ElementsAre("availability cache"));
  // The best chunk mentions the first word: the question may be about it.
  r = Retrieve("How does replication sit between servers?");
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(DocIdFromSource(r.hits[0].chunk.source), "replication");
  EXPECT_FALSE(r.abstain);
  EXPECT_TRUE(r.unknown_terms.empty());
}

TEST(NamedSubjectTest, TakesTheNameAfterHowDoesAndWhatIs) {
  EXPECT_EQ(NamedSubject("How does consistent hashing limit how many keys move?"),
            "consistent hashing");
  EXPECT_EQ(NamedSubject("How does a Bloom filter test set membership?"), "Bloom filter");
  EXPECT_EQ(NamedSubject("What does the CAP theorem say?"), "CAP theorem");
  EXPECT_EQ(NamedSubject("What is snapshot isolation, and why?"), "snapshot isolation");
  EXPECT_EQ(NamedSubject("how do vector clocks order events"), "vector clocks");
  // A hyphenated word is a name on its own.
  EXPECT_EQ(NamedSubject("How does a log-structured merge tree buffer writes?"),
            "log-structured");
  EXPECT_EQ(NamedSubject("How does copy-on-write share pages?"), "copy-on-write");
  // A possessive is part of the name.
  EXPECT_EQ(NamedSubject("What does Nagle's algorithm do?"), "Nagle's algorithm");
  EXPECT_EQ(NamedSubject("What is Amdahl\u2019s law?"), "Amdahl\u2019s law");
  EXPECT_EQ(NamedSubject("What is Moore's?"), "");  // one word
  EXPECT_EQ(NamedSubject("What are the users' rights?"), "");  // no s after the mark
}

TEST(NamedSubjectTest, EmptyWhenTheQuestionDescribesOrNamesOneWord) {
  EXPECT_EQ(NamedSubject("Which list structure lets you walk backwards?"), "");
  EXPECT_EQ(NamedSubject("Why does a Unix child stay a zombie?"), "");
  EXPECT_EQ(NamedSubject("How can I run logic inside the server?"), "");
  EXPECT_EQ(NamedSubject("What do you call a graph without cycles?"), "");
  EXPECT_EQ(NamedSubject("What is it called when processes wait forever?"), "");
  EXPECT_EQ(NamedSubject("What is a deque?"), "");                      // one word
  EXPECT_EQ(NamedSubject("What is the purpose of data replication?"), "");  // "purpose" alone
  EXPECT_EQ(NamedSubject("How does a host on an Ethernet find ..."), "");
  EXPECT_EQ(NamedSubject("Explain key-value databases."), "");
  EXPECT_EQ(NamedSubject(""), "");
  EXPECT_EQ(NamedSubject("How does"), "");
  EXPECT_EQ(NamedSubject("What is a -"), "");
  // Ends of input inside a name, a hyphen or a possessive.
  EXPECT_EQ(NamedSubject("How does copy-"), "");
  EXPECT_EQ(NamedSubject("How does copy-on"), "copy-on");
  EXPECT_EQ(NamedSubject("What is Amdahl's"), "");
  EXPECT_EQ(NamedSubject("What is Amdahl'"), "");
  EXPECT_EQ(NamedSubject(std::string_view("How does red-black tree", 12)), "");  // "red"
}

TEST_F(AnswerTest, LowConfidenceAbstainsWithoutUnknownTerms) {
  // Every word exists, but no chunk covers the rare ones together.
  auto retriever =
      Retriever::Create(store_.get(), embedder_.get(), RetrievalOptions{.abstain_threshold = 0.99});
  ASSERT_TRUE(retriever.ok());
  Retrieval r = *retriever->Retrieve("synchronous cache B-tree filler", 3);
  EXPECT_TRUE(r.abstain);
  EXPECT_TRUE(r.unknown_terms.empty());
  EXPECT_THAT(FormatResponse("", r, 0.99, ""), HasSubstr("below the 0.99 threshold"));
}

TEST_F(AnswerTest, ExtractiveAnswerQuotesSourcesWithCitations) {
  Retrieval r = Retrieve("What is the purpose of data replication?");
  auto gen = NewExtractiveGenerator(store_.get());
  std::string streamed;
  auto answer = gen->Generate({"What is the purpose of data replication?", r.hits},
                              [&](std::string_view t) { streamed += t; });
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(streamed, *answer);
  EXPECT_THAT(*answer, HasSubstr("Replication keeps copies of the same data on several servers."));
  EXPECT_THAT(*answer, HasSubstr("[1]"));
  std::string response = FormatResponse(*answer, r, 0.18, "(extractive)");
  EXPECT_THAT(response, HasSubstr("Sources:\n[1] " + r.hits[0].chunk.source + " (Replication)"));
  EXPECT_THAT(response, ::testing::EndsWith("(extractive)"));
}

TEST_F(AnswerTest, RetrieverRefusesAnotherEmbedder) {
  auto other = NewBuiltinEmbedder(128);  // same id, but the store says dim 256...
  struct Renamed : Embedder {
    std::string id() const override { return "ollama:x"; }
    size_t dim() const override { return 3; }
    Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>&,
                                                  EmbedPurpose) override {
      return std::vector<std::vector<float>>{};
    }
  } renamed;
  auto r = Retriever::Create(store_.get(), &renamed);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("--embedder builtin-v1"));
}

TEST(QuestionFramingTest, InstructionWordsAreStripped) {
  EXPECT_EQ(StripQuestionFraming("Explain key-value databases with examples."),
            " key-value databases with .");
  EXPECT_EQ(StripQuestionFraming("EXPLAIN"), "EXPLAIN");  // nothing else would remain
  EXPECT_EQ(StripQuestionFraming("What is ANALYZE?"), "What is ANALYZE?");
}

TEST(TranscriptTest, GoldenFormat) {
  EXPECT_EQ(FormatTranscriptEntry("What is the purpose of data replication?",
                                  "Copies of data. [1]\n\nSources:\n[1] /d/r.md (Replication)"),
            "Question: What is the purpose of data replication?\n"
            "Response:\n"
            "Copies of data. [1]\n"
            "\n"
            "Sources:\n"
            "[1] /d/r.md (Replication)\n"
            "==================================================\n");
}

TEST(CitationTest, LabelsCombineTitleHeadingAndPage) {
  ChunkRecord c;
  c.source = "/d/manual.pdf";
  c.title = "Manual";
  c.heading = "Manual > Install";
  c.page = 7;
  EXPECT_EQ(CitationLabel(c), "/d/manual.pdf (Manual > Install, p. 7)");
  c.heading = "Setup";
  c.page = 0;
  EXPECT_EQ(CitationLabel(c), "/d/manual.pdf (Manual > Setup)");
  c.title.clear();
  c.heading.clear();
  EXPECT_EQ(CitationLabel(c), "/d/manual.pdf");
}

}  // namespace
}  // namespace ragkv::rag
