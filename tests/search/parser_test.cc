// FT.CREATE and query parser tests: the command lines real clients send, the
// error texts clients match on, and hostile inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "search/ft_schema.h"
#include "search/query_parser.h"

namespace ragkv::search {
namespace {

Result<IndexDef> Create(const std::vector<std::string>& args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  return ParseCreateArgs(views);
}

TEST(SchemaParserTest, RedisPyCreateIndex) {
  auto def = Create({"idx", "ON", "HASH", "PREFIX", "1", "doc:", "SCORE", "1.0", "SCHEMA", "v",
                     "VECTOR", "HNSW", "6", "TYPE", "FLOAT32", "DIM", "384", "DISTANCE_METRIC",
                     "COSINE", "tag", "TAG", "SEPARATOR", ",", "num", "NUMERIC", "content", "TEXT",
                     "WEIGHT", "1.0"});
  ASSERT_TRUE(def.ok()) << def.status().message();
  EXPECT_EQ(def->name, "idx");
  EXPECT_EQ(def->prefixes, std::vector<std::string>{"doc:"});
  ASSERT_EQ(def->fields.size(), 4u);
  EXPECT_EQ(def->fields[0].type, FieldType::kVector);
  EXPECT_EQ(def->fields[0].vector.dim, 384u);
  EXPECT_EQ(def->fields[0].vector.metric, vec::Metric::kCosine);
  EXPECT_EQ(def->fields[1].type, FieldType::kTag);
  EXPECT_EQ(def->fields[2].type, FieldType::kNumeric);
  EXPECT_EQ(def->fields[3].type, FieldType::kText);
  EXPECT_TRUE(def->MatchesKey("doc:1"));
  EXPECT_FALSE(def->MatchesKey("other:1"));
}

TEST(SchemaParserTest, AliasesAndFieldOptions) {
  auto def = Create({"i", "SCHEMA", "metadata.genre", "AS", "genre", "TAG", "CASESENSITIVE",
                     "SEPARATOR", "|", "SORTABLE", "title", "TEXT", "NOSTEM", "WEIGHT", "2",
                     "SORTABLE", "UNF", "year", "NUMERIC", "SORTABLE", "NOINDEX"});
  ASSERT_TRUE(def.ok()) << def.status().message();
  const FieldDef* genre = def->FindAttribute("genre");
  ASSERT_NE(genre, nullptr);
  EXPECT_EQ(genre->identifier, "metadata.genre");
  EXPECT_TRUE(genre->case_sensitive);
  EXPECT_EQ(genre->separator, '|');
  EXPECT_TRUE(def->FindAttribute("title")->nostem);
  EXPECT_DOUBLE_EQ(def->FindAttribute("title")->weight, 2.0);
  EXPECT_TRUE(def->FindAttribute("year")->noindex);
  EXPECT_TRUE(def->prefixes.empty());
  EXPECT_TRUE(def->MatchesKey("anything"));
}

TEST(SchemaParserTest, HnswAttributes) {
  auto def = Create({"i", "SCHEMA", "v", "VECTOR", "HNSW", "14", "TYPE", "FLOAT64", "DIM", "4",
                     "DISTANCE_METRIC", "L2", "M", "40", "EF_CONSTRUCTION", "250", "EF_RUNTIME",
                     "20", "EPSILON", "0.02"});
  ASSERT_TRUE(def.ok()) << def.status().message();
  const vec::IndexSpec& s = def->fields[0].vector;
  EXPECT_EQ(s.type, vec::ElementType::kFloat64);
  EXPECT_EQ(s.m, 40u);
  EXPECT_EQ(s.ef_construction, 250u);
  EXPECT_EQ(s.ef_runtime, 20u);
}

TEST(SchemaParserTest, Errors) {
  EXPECT_EQ(Create({"i", "SCHEMA"}).status().message(), "Fields arguments are missing");
  EXPECT_EQ(Create({"i", "PREFIX", "1", "a"}).status().message(), "No schema found");
  EXPECT_EQ(Create({"i", "SCHEMA", "a", "TEXT", "a", "TAG"}).status().message(),
            "Duplicate field in schema - a");
  EXPECT_EQ(Create({"i", "SCHEMA", "v", "VECTOR", "HNSW", "5", "TYPE", "FLOAT32", "DIM", "4",
                    "DISTANCE_METRIC"})
                .status()
                .message(),
            "Bad number of arguments for vector similarity index: got 5 but expected even number");
  EXPECT_EQ(Create({"i", "SCHEMA", "v", "VECTOR", "HNSW", "6", "TYPE", "FLOAT32", "DIM", "4",
                    "BOGUS", "1"})
                .status()
                .message(),
            "Bad arguments for algorithm HNSW: BOGUS");
  EXPECT_FALSE(Create({"i", "SCHEMA", "v", "VECTOR", "FLAT", "4", "TYPE", "FLOAT32", "DIM", "4"})
                   .ok());  // no DISTANCE_METRIC
  EXPECT_FALSE(Create({"i", "SCHEMA", "v", "VECTOR", "HNSW", "6", "TYPE", "FLOAT32", "DIM",
                       "99999999999", "DISTANCE_METRIC", "L2"})
                   .ok());
  EXPECT_FALSE(Create({"i", "SCHEMA", "v", "VECTOR", "HNSW", "1000", "TYPE"}).ok());
  EXPECT_FALSE(Create({"i", "SCHEMA", "x", "BLOB"}).ok());
  EXPECT_FALSE(Create({"i", "PREFIX", "99", "a", "SCHEMA", "x", "TEXT"}).ok());
}

// Parses and checks the outcome is the same whether the query comes whole or
// with trailing/leading whitespace (the query is one argument, so there is no
// incremental form to split).
Result<ParsedQuery> Parse(std::string_view q, const QueryParams& params = {}) {
  return ParseQuery(q, params);
}

TEST(QueryParserTest, WildcardKnnAsLangChainSends) {
  QueryParams params{{"vector", std::string(16, '\0')}};
  auto q = Parse("* => [KNN 4 @content_vector $vector AS vector_score]", params);
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->root->kind, NodeKind::kAll);
  ASSERT_TRUE(q->knn.has_value());
  EXPECT_EQ(q->knn->k, 4u);
  EXPECT_EQ(q->knn->field, "content_vector");
  EXPECT_EQ(q->knn->alias, "vector_score");
  EXPECT_EQ(q->knn->blob.size(), 16u);
}

TEST(QueryParserTest, KnnParamsAndAttributes) {
  QueryParams params{{"K", "7"}, {"vec", "abcd"}, {"EF", "40"}};
  auto q = Parse("(@tag:{a|b} @num:[1 (5])=>[KNN $K @v $vec EF_RUNTIME $EF]", params);
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->knn->k, 7u);
  EXPECT_EQ(q->knn->ef_runtime, 40u);
  EXPECT_EQ(q->knn->alias, "__v_score");
  ASSERT_EQ(q->root->kind, NodeKind::kAnd);
  const QueryNode& tag = *q->root->children[0];
  EXPECT_EQ(tag.kind, NodeKind::kTag);
  EXPECT_EQ(tag.words, (std::vector<std::string>{"a", "b"}));
  const QueryNode& num = *q->root->children[1];
  EXPECT_EQ(num.kind, NodeKind::kNumeric);
  EXPECT_EQ(num.lo, 1);
  EXPECT_FALSE(num.lo_exclusive);
  EXPECT_EQ(num.hi, 5);
  EXPECT_TRUE(num.hi_exclusive);

  auto y = Parse("*=>[KNN 3 @v $vec]=>{$YIELD_DISTANCE_AS: dist; $EF_RUNTIME: 64}", params);
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_EQ(y->knn->alias, "dist");
  EXPECT_EQ(y->knn->ef_runtime, 64u);
}

TEST(QueryParserTest, TextNegationUnionAndEscapes) {
  auto q = Parse("hello -@title:(world|there) @body:\"exact phrase\" pre* ~maybe");
  ASSERT_TRUE(q.ok()) << q.status().message();
  ASSERT_EQ(q->root->kind, NodeKind::kAnd);
  ASSERT_EQ(q->root->children.size(), 5u);
  EXPECT_EQ(q->root->children[0]->kind, NodeKind::kTerm);
  EXPECT_EQ(q->root->children[1]->kind, NodeKind::kNot);
  EXPECT_EQ(q->root->children[1]->children[0]->kind, NodeKind::kOr);
  EXPECT_EQ(q->root->children[1]->children[0]->children[0]->field, "title");
  EXPECT_EQ(q->root->children[2]->kind, NodeKind::kPhrase);
  EXPECT_EQ(q->root->children[3]->kind, NodeKind::kPrefix);
  EXPECT_EQ(q->root->children[4]->kind, NodeKind::kOptional);

  auto tags = Parse(R"(@city:{New\ York | san francisco} @n:[-inf +inf] @m>=3)");
  ASSERT_TRUE(tags.ok()) << tags.status().message();
  EXPECT_EQ(tags->root->children[0]->words,
            (std::vector<std::string>{"New York", "san francisco"}));
  EXPECT_TRUE(std::isinf(tags->root->children[1]->lo));
  EXPECT_EQ(tags->root->children[2]->lo, 3);
}

TEST(QueryParserTest, VectorRange) {
  QueryParams params{{"B", "xxxx"}, {"R", "0.5"}};
  auto q = Parse("(@v:[VECTOR_RANGE $R $B]=>{$YIELD_DISTANCE_AS: d} @t:{x})", params);
  ASSERT_TRUE(q.ok()) << q.status().message();
  ASSERT_EQ(q->root->kind, NodeKind::kAnd);
  const QueryNode& r = *q->root->children[0];
  EXPECT_EQ(r.kind, NodeKind::kVectorRange);
  EXPECT_DOUBLE_EQ(r.radius, 0.5);
  EXPECT_EQ(r.yield_as, "d");
  EXPECT_EQ(r.blob, "xxxx");
}

TEST(QueryParserTest, Errors) {
  EXPECT_EQ(Parse("").status().message(), "Syntax error at offset 0 near ");
  EXPECT_EQ(Parse("(a b").status().message(), "Syntax error at offset 4 near ");
  EXPECT_EQ(Parse("*=>[KNN 3 @v $nope]").status().message(), "No such parameter `nope`");
  EXPECT_FALSE(Parse("*=>[KNN 3 @v literal]", {}).ok());
  QueryParams p{{"b", "x"}};
  EXPECT_EQ(Parse("*=>[KNN 999999999999 @v $b]", p).status().message(),
            "Error parsing vector similarity query: K exceeds maximum of 100000");
  EXPECT_FALSE(Parse("*=>[KNN -1 @v $b]", p).ok());
  EXPECT_FALSE(Parse("*=>[KNN 5 @v $b EF_RUNTIME 99999999999]", p).ok());
  EXPECT_FALSE(Parse("*=>[KNN 5 @v $b BOGUS 1]", p).ok());
  EXPECT_FALSE(Parse("@n:[1 x]").ok());
  EXPECT_FALSE(Parse("@t:{a").ok());
  EXPECT_FALSE(Parse("\"open").ok());
  EXPECT_FALSE(Parse("a ) b").ok());
  EXPECT_FALSE(Parse(std::string(10000, '(')).ok());  // bounded depth, no stack overflow
  EXPECT_FALSE(Parse(std::string(10000, '-') + "a").ok());
}

TEST(QueryParserTest, EveryPrefixOfValidQueriesIsHandled) {
  // Truncations of valid queries are either valid or clean errors.
  QueryParams p{{"b", "abcd"}, {"K", "3"}};
  const std::vector<std::string> queries = {
      "(@tag:{a|b} @num:[1 (5] -foo)=>[KNN $K @v $b AS s EF_RUNTIME 10]=>{$yield_distance_as: z}",
      "@v:[VECTOR_RANGE 0.2 $b]=>{$YIELD_DISTANCE_AS: d} | @t:\"x y\" ~pre*",
  };
  for (const auto& q : queries) {
    ASSERT_TRUE(Parse(q, p).ok()) << q;
    for (size_t i = 0; i < q.size(); ++i) {
      auto r = Parse(q.substr(0, i), p);
      if (!r.ok()) {
        EXPECT_FALSE(r.status().message().empty());
      }
    }
  }
}

TEST(QueryParserTest, ExplainNamesTheOperators) {
  QueryParams p{{"b", "abcd"}};
  auto q = Parse("(@t:{x} | hello) -@n:[1 2]", p);
  ASSERT_TRUE(q.ok());
  std::string plan = ExplainQuery(*q);
  EXPECT_NE(plan.find("INTERSECT"), std::string::npos);
  EXPECT_NE(plan.find("UNION"), std::string::npos);
  EXPECT_NE(plan.find("TAG:@t"), std::string::npos);
  EXPECT_NE(plan.find("NOT"), std::string::npos);
}

}  // namespace
}  // namespace ragkv::search
