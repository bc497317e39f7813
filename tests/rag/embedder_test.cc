#include "rag/embedder.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ragkv::rag {
namespace {

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

TEST(BuiltinEmbedderTest, DeterministicUnitVectors) {
  auto e1 = NewBuiltinEmbedder(256);
  auto e2 = NewBuiltinEmbedder(256);
  auto a = e1->Embed({"Replication copies data between servers.", ""}, EmbedPurpose::kDocument);
  auto b = e2->Embed({"Replication copies data between servers."}, EmbedPurpose::kDocument);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0], (*b)[0]);
  EXPECT_EQ((*a)[0].size(), 256u);
  EXPECT_NEAR(Dot((*a)[0], (*a)[0]), 1.0, 1e-5);
  EXPECT_EQ(Dot((*a)[1], (*a)[1]), 0.0);  // no features: the zero vector
  EXPECT_EQ(e1->id(), "builtin-v1");
}

TEST(BuiltinEmbedderTest, SharedWordsAndSpellingVariantsAreCloser) {
  auto e = NewBuiltinEmbedder();
  auto v = e->Embed({"serialisation of objects to bytes", "object serialization into bytes",
                     "a routing protocol for packets"},
                    EmbedPurpose::kDocument);
  ASSERT_TRUE(v.ok());
  EXPECT_GT(Dot((*v)[0], (*v)[1]), Dot((*v)[0], (*v)[2]) + 0.2);
}

TEST(BuiltinEmbedderTest, QuerySideIdfDownweightsCommonTerms) {
  auto e = NewBuiltinEmbedder();
  // "data" is in every document, "replication" in one.
  for (int i = 0; i < 50; ++i) e->ObserveCorpus("data about topic " + std::to_string(i), +1);
  e->ObserveCorpus("data replication", +1);
  auto docs = e->Embed({"replication", "data"}, EmbedPurpose::kDocument);
  auto q = e->Embed({"data replication"}, EmbedPurpose::kQuery);
  ASSERT_TRUE(docs.ok() && q.ok());
  EXPECT_GT(Dot((*q)[0], (*docs)[0]), Dot((*q)[0], (*docs)[1]));
}

TEST(BuiltinEmbedderTest, StateRoundTripsAndRejectsGarbage) {
  auto e = NewBuiltinEmbedder();
  e->ObserveCorpus("alpha beta", +1);
  e->ObserveCorpus("alpha gamma", +1);
  std::string state = e->SerializeState();
  auto f = NewBuiltinEmbedder();
  ASSERT_TRUE(f->RestoreState(state).ok());
  EXPECT_EQ(f->SerializeState(), state);
  auto qe = e->Embed({"alpha gamma"}, EmbedPurpose::kQuery);
  auto qf = f->Embed({"alpha gamma"}, EmbedPurpose::kQuery);
  EXPECT_EQ((*qe)[0], (*qf)[0]);
  EXPECT_EQ(f->RestoreState("garbage").code(), StatusCode::kCorruption);
  EXPECT_EQ(f->RestoreState(state.substr(0, state.size() - 3)).code(), StatusCode::kCorruption);
  EXPECT_TRUE(f->RestoreState("").ok());
}

TEST(EmbedderFactoryTest, SpecsAreParsed) {
  EXPECT_TRUE(CreateEmbedder("builtin").ok());
  EXPECT_TRUE(CreateEmbedder("ollama:nomic-embed-text").ok());
  EXPECT_TRUE(CreateEmbedder("openai:text-embedding-3-small").ok());
  EXPECT_EQ(CreateEmbedder("ollama:").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateEmbedder("word2vec").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ragkv::rag
