#include "search/schema.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace ragkv::search {
namespace {

// Splits a command line on spaces into owned strings (no quoting needed for
// FT.CREATE arguments in these tests).
std::vector<std::string> Split(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  std::string word;
  while (in >> word) out.push_back(word);
  return out;
}

// Parses "FT.CREATE <args>" given as one line; drops the command name.
Result<IndexSchema> Create(std::string_view line) {
  const std::vector<std::string> words = Split(line);
  std::vector<std::string_view> args(words.begin() + 1, words.end());
  return ParseFtCreate(args);
}

std::string ErrorOf(std::string_view line) {
  auto r = Create(line);
  if (r.ok()) return "<ok>";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

TEST(SchemaTest, LangChainDefaultIndex) {
  auto s = Create(
      "FT.CREATE idx ON HASH PREFIX 1 doc:idx: SCHEMA content_vector VECTOR HNSW 6 TYPE FLOAT32 "
      "DIM 1536 DISTANCE_METRIC COSINE content TEXT metadata TEXT");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "idx");
  EXPECT_EQ(s->on, KeyType::kHash);
  EXPECT_EQ(s->prefixes, std::vector<std::string>{"doc:idx:"});
  ASSERT_EQ(s->fields.size(), 3u);
  const FieldSpec& v = s->fields[0];
  EXPECT_EQ(v.type, FieldType::kVector);
  EXPECT_EQ(v.vector.algorithm, VectorAlgorithm::kHnsw);
  EXPECT_EQ(v.vector.type, VectorType::kFloat32);
  EXPECT_EQ(v.vector.dim, 1536u);
  EXPECT_EQ(v.vector.metric, DistanceMetric::kCosine);
  EXPECT_EQ(v.vector.m, 16u);  // defaults
  EXPECT_EQ(v.vector.ef_construction, 200u);
  EXPECT_EQ(v.vector.ef_runtime, 10u);
  EXPECT_DOUBLE_EQ(v.vector.epsilon, 0.01);
  EXPECT_EQ(v.vector.BlobBytes(), 1536u * 4);
  EXPECT_EQ(s->fields[1].type, FieldType::kText);
  EXPECT_EQ(s->FindField("metadata"), &s->fields[2]);
  EXPECT_EQ(s->FindField("nope"), nullptr);
}

TEST(SchemaTest, LangChainTunedHnswAndCustomSchema) {
  auto s = Create(
      "FT.CREATE idx ON HASH PREFIX 1 doc:idx: SCHEMA content_vector VECTOR HNSW 14 TYPE FLOAT32 "
      "DIM 4 DISTANCE_METRIC IP INITIAL_CAP 1000 M 32 EF_CONSTRUCTION 400 EF_RUNTIME 50 content "
      "TEXT metadata TEXT metadata.category TAG SEPARATOR , SORTABLE metadata.year NUMERIC "
      "SORTABLE metadata.title TEXT SORTABLE");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const VectorParams& p = s->fields[0].vector;
  EXPECT_EQ(p.metric, DistanceMetric::kIp);
  EXPECT_EQ(p.initial_cap, 1000u);
  EXPECT_EQ(p.m, 32u);
  EXPECT_EQ(p.ef_construction, 400u);
  EXPECT_EQ(p.ef_runtime, 50u);
  const FieldSpec* tag = s->FindField("metadata.category");
  ASSERT_NE(tag, nullptr);
  EXPECT_EQ(tag->type, FieldType::kTag);
  EXPECT_EQ(tag->separator, ',');
  EXPECT_TRUE(tag->sortable);
  EXPECT_TRUE(s->FindField("metadata.year")->sortable);
  EXPECT_EQ(s->FindField("metadata.title")->type, FieldType::kText);
}

TEST(SchemaTest, RedisPyCreateIndexWithExplicitDefaults) {
  auto s = Create(
      "FT.CREATE idx ON HASH PREFIX 1 doc: SCORE 1.0 SCHEMA v VECTOR HNSW 6 TYPE FLOAT32 DIM 384 "
      "DISTANCE_METRIC COSINE tag TAG SEPARATOR , num NUMERIC content TEXT WEIGHT 1.0");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->score, 1.0);
  ASSERT_EQ(s->fields.size(), 4u);
  EXPECT_EQ(s->fields[3].alias, "content");
  EXPECT_DOUBLE_EQ(s->fields[3].weight, 1.0);
  // Without a definition: every key.
  auto all = Create("FT.CREATE idx SCHEMA v VECTOR FLAT 6 TYPE FLOAT64 DIM 8 DISTANCE_METRIC L2");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_TRUE(all->prefixes.empty());
  EXPECT_EQ(all->fields[0].vector.algorithm, VectorAlgorithm::kFlat);
  EXPECT_EQ(all->fields[0].vector.BlobBytes(), 64u);
}

TEST(SchemaTest, NodeRedisOptionOrdersAndFlags) {
  // v4 puts INDEXMISSING last, v5/v6 first.
  for (const char* line :
       {"FT.CREATE i SCHEMA t TEXT NOSTEM WEIGHT 2 SORTABLE UNF INDEXMISSING g TAG CASESENSITIVE "
        "SEPARATOR ; WITHSUFFIXTRIE INDEXEMPTY n NUMERIC SORTABLE NOINDEX",
        "FT.CREATE i SCHEMA t TEXT INDEXMISSING SORTABLE UNF WEIGHT 2 NOSTEM g TAG INDEXEMPTY "
        "WITHSUFFIXTRIE SEPARATOR ; CASESENSITIVE n NUMERIC NOINDEX SORTABLE"}) {
    auto s = Create(line);
    ASSERT_TRUE(s.ok()) << line << ": " << s.status().ToString();
    ASSERT_EQ(s->fields.size(), 3u);
    const FieldSpec& t = s->fields[0];
    EXPECT_TRUE(t.nostem && t.sortable && t.unf && t.index_missing);
    EXPECT_DOUBLE_EQ(t.weight, 2);
    const FieldSpec& g = s->fields[1];
    EXPECT_TRUE(g.case_sensitive && g.with_suffix_trie && g.index_empty);
    EXPECT_EQ(g.separator, ';');
    EXPECT_TRUE(s->fields[2].noindex && s->fields[2].sortable);
  }
}

TEST(SchemaTest, FluentStoreAndRedisOmShapes) {
  auto fluent = Create(
      "FT.CREATE idx ON HASH PREFIX 1 doc:idx: SCHEMA content_vector VECTOR HNSW 6 TYPE FLOAT32 DIM "
      "3 DISTANCE_METRIC COSINE content TEXT tags TAG SEPARATOR , CASESENSITIVE NOINDEX title TEXT "
      "WEIGHT 2 NOSTEM NOINDEX SORTABLE price NUMERIC SORTABLE NOINDEX loc GEO NOINDEX");
  ASSERT_TRUE(fluent.ok()) << fluent.status().ToString();
  EXPECT_EQ(fluent->FindField("loc")->type, FieldType::kGeo);
  EXPECT_TRUE(fluent->FindField("loc")->noindex);

  auto om = Create(
      "FT.CREATE Person:index ON JSON PREFIX 1 Person: STOPWORDS 0 SCHEMA $.name AS name TAG "
      "SEPARATOR | $.age AS age NUMERIC");
  ASSERT_TRUE(om.ok()) << om.status().ToString();
  EXPECT_EQ(om->on, KeyType::kJson);
  ASSERT_TRUE(om->stopwords.has_value());
  EXPECT_TRUE(om->stopwords->empty());
  EXPECT_EQ(om->fields[0].identifier, "$.name");
  EXPECT_EQ(om->fields[0].alias, "name");
  EXPECT_EQ(om->fields[0].separator, '|');

  auto om_py = Create(
      "ft.create idx ON HASH PREFIX 1 p: SCHEMA v VECTOR HNSW 14 TYPE FLOAT32 DIM 3 "
      "DISTANCE_METRIC L2 INITIAL_CAP 10 M 8 EF_CONSTRUCTION 100 EPSILON 0.5");
  ASSERT_TRUE(om_py.ok()) << om_py.status().ToString();
  EXPECT_DOUBLE_EQ(om_py->fields[0].vector.epsilon, 0.5);
}

TEST(SchemaTest, IndexOptionsInAnyOrderAndAnyCase) {
  auto s = Create(
      "ft.create i score 0.5 language German prefix 2 a: b: on hash nooffsets NOHL nofields "
      "NOFREQS skipinitialscan MAXTEXTFIELDS TEMPORARY 60 STOPWORDS 2 foo bar LANGUAGE_FIELD lang "
      "SCORE_FIELD sc PAYLOAD_FIELD pl FILTER @x>1 INDEXALL ENABLE schema t text "
      "v vector hnsw 6 type bfloat16 dim 2 distance_metric l2");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->score, 0.5);
  EXPECT_EQ(s->language, "german");
  EXPECT_EQ(s->prefixes, (std::vector<std::string>{"a:", "b:"}));
  EXPECT_TRUE(s->no_offsets && s->no_highlight && s->no_fields && s->no_freqs);
  EXPECT_TRUE(s->skip_initial_scan && s->max_text_fields && s->index_all);
  EXPECT_EQ(s->temporary_seconds, 60u);
  EXPECT_EQ(*s->stopwords, (std::vector<std::string>{"foo", "bar"}));
  EXPECT_EQ(s->language_field, "lang");
  EXPECT_EQ(s->score_field, "sc");
  EXPECT_EQ(s->payload_field, "pl");
  EXPECT_EQ(s->filter, "@x>1");
  EXPECT_EQ(s->fields[1].vector.type, VectorType::kBFloat16);
  EXPECT_EQ(s->fields[1].vector.BlobBytes(), 4u);
}

TEST(SchemaTest, AllVectorTypesAndMetrics) {
  struct Case {
    const char* type;
    size_t bytes;
  };
  for (const Case& c : {Case{"FLOAT32", 4}, Case{"FLOAT64", 8}, Case{"FLOAT16", 2},
                        Case{"BFLOAT16", 2}, Case{"INT8", 1}, Case{"UINT8", 1}}) {
    for (const char* metric : {"L2", "IP", "COSINE"}) {
      const std::string line = std::string("FT.CREATE i SCHEMA v VECTOR FLAT 8 TYPE ") + c.type +
                               " DIM 10 DISTANCE_METRIC " + metric + " BLOCK_SIZE 512";
      auto s = Create(line);
      ASSERT_TRUE(s.ok()) << line << ": " << s.status().ToString();
      EXPECT_EQ(s->fields[0].vector.BlobBytes(), 10 * c.bytes);
      EXPECT_EQ(s->fields[0].vector.block_size, 512u);
      EXPECT_EQ(VectorTypeName(s->fields[0].vector.type), c.type);
      EXPECT_EQ(DistanceMetricName(s->fields[0].vector.metric), metric);
    }
  }
}

TEST(SchemaTest, IndexLevelErrors) {
  EXPECT_EQ(ErrorOf("FT.CREATE i ON HASH"), "No schema found");
  EXPECT_EQ(ErrorOf("FT.CREATE i FOO SCHEMA t TEXT"), "Unknown argument `FOO`");
  EXPECT_EQ(ErrorOf("FT.CREATE i SCHEMA"), "Fields arguments are missing");
  EXPECT_EQ(ErrorOf("FT.CREATE i ON XML SCHEMA t TEXT"), "Invalid `ON` argument: XML");
  // As in RediSearch, the count wins: SCHEMA is swallowed as the third prefix.
  EXPECT_EQ(ErrorOf("FT.CREATE i PREFIX 3 a b SCHEMA t TEXT"), "Unknown argument `t`");
  EXPECT_EQ(ErrorOf("FT.CREATE i PREFIX 5 a b"),
            "Bad arguments for PREFIX: Expected an argument, but none provided");
  EXPECT_EQ(ErrorOf("FT.CREATE i PREFIX x a SCHEMA t TEXT"),
            "Bad arguments for PREFIX: Could not convert argument to expected type");
  EXPECT_EQ(ErrorOf("FT.CREATE i SCORE 2 SCHEMA t TEXT"), "Invalid score");
  EXPECT_EQ(ErrorOf("FT.CREATE i LANGUAGE klingon SCHEMA t TEXT"), "Invalid language");
  EXPECT_EQ(ErrorOf("FT.CREATE i STOPWORDS"),
            "Bad arguments for STOPWORDS: Expected an argument, but none provided");
  EXPECT_EQ(ErrorOf("FT.CREATE"), "Bad arguments for index name: Expected an argument, but none provided");
}

TEST(SchemaTest, FieldLevelErrors) {
  EXPECT_EQ(ErrorOf("FT.CREATE i SCHEMA t BLOB"), "Invalid field type for field `t`");
  EXPECT_EQ(ErrorOf("FT.CREATE i SCHEMA t"), "Field `t` does not have a type");
  EXPECT_EQ(ErrorOf("FT.CREATE i SCHEMA t AS x"), "Field `x` does not have a type");
  EXPECT_EQ(ErrorOf("FT.CREATE i SCHEMA a TEXT a TAG"), "Duplicate field in schema - a");
  EXPECT_EQ(ErrorOf("FT.CREATE i SCHEMA a TEXT b AS a NUMERIC"), "Duplicate field in schema - a");
  EXPECT_EQ(ErrorOf("FT.CREATE i SCHEMA g TAG SEPARATOR ,,"),
            "Tag separator must be a single character");
  EXPECT_EQ(ErrorOf("FT.CREATE i SCHEMA t TEXT WEIGHT heavy"),
            "Bad arguments for weight: Could not convert argument to expected type");
  EXPECT_EQ(ErrorOf("FT.CREATE i SCHEMA t TEXT PHONETIC xx:yy").substr(0, 15), "Matcher Format:");
  // Options of another type are not options here: NOSTEM starts a new field.
  EXPECT_EQ(ErrorOf("FT.CREATE i SCHEMA n NUMERIC NOSTEM"), "Field `NOSTEM` does not have a type");
}

TEST(SchemaTest, VectorErrorsUseRediSearchTexts) {
  const std::string v = "FT.CREATE i SCHEMA v VECTOR ";
  EXPECT_EQ(ErrorOf(v + "HNSW 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2 FOO 1"),
            "Bad arguments for algorithm HNSW: FOO");
  EXPECT_EQ(ErrorOf(v + "FLAT 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2 M 16"),
            "Bad arguments for algorithm FLAT: M");
  EXPECT_EQ(ErrorOf(v + "HNSW 5 TYPE FLOAT32 DIM 4 DISTANCE_METRIC"),
            "Bad number of arguments for vector similarity index: got 5 but expected even number "
            "(as algorithm parameters should be submitted as named arguments)");
  EXPECT_EQ(ErrorOf(v + "HNSW 8 TYPE FLOAT32 DIM 4"), "Expected 8 parameters but got 4");
  EXPECT_EQ(ErrorOf(v + "HNSW 4 TYPE FLOAT32 DISTANCE_METRIC L2"),
            "Missing mandatory parameter: cannot create HNSW index without specifying DIM argument");
  EXPECT_EQ(ErrorOf(v + "FLAT 4 DIM 4 DISTANCE_METRIC L2"),
            "Missing mandatory parameter: cannot create FLAT index without specifying TYPE argument");
  EXPECT_EQ(ErrorOf(v + "HNSW 4 TYPE FLOAT32 DIM 4"),
            "Missing mandatory parameter: cannot create HNSW index without specifying "
            "DISTANCE_METRIC argument");
  EXPECT_EQ(ErrorOf(v + "HNSW 6 TYPE FLOAT8 DIM 4 DISTANCE_METRIC L2"),
            "Bad arguments for vector similarity HNSW index type: Unknown argument");
  EXPECT_EQ(ErrorOf(v + "HNSW 6 TYPE FLOAT32 DIM 0 DISTANCE_METRIC L2"),
            "Bad arguments for vector similarity HNSW index dim: Value is outside acceptable bounds");
  EXPECT_EQ(ErrorOf(v + "HNSW 6 TYPE FLOAT32 DIM -4 DISTANCE_METRIC L2"),
            "Bad arguments for vector similarity HNSW index dim: Could not convert argument to "
            "expected type");
  EXPECT_EQ(ErrorOf(v + "HNSW 6 TYPE FLOAT32 DIM 99999999 DISTANCE_METRIC L2"),
            "Bad arguments for vector similarity HNSW index dim: Value is outside acceptable bounds");
  EXPECT_EQ(ErrorOf(v + "HNSW 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC HAMMING"),
            "Bad arguments for vector similarity HNSW index metric: Unknown argument");
  EXPECT_EQ(ErrorOf(v + "HNSW 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2 M 100000"),
            "Bad arguments for vector similarity HNSW index m: Value is outside acceptable bounds");
  EXPECT_EQ(ErrorOf(v + "HNSW 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2 EF_RUNTIME 0"),
            "Bad arguments for vector similarity HNSW index efRuntime: Value is outside acceptable "
            "bounds");
  EXPECT_EQ(ErrorOf(v + "IVF 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2"),
            "Bad arguments for vector similarity algorithm: Unknown argument");
  EXPECT_EQ(ErrorOf(v + "HNSW six TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2"),
            "Bad arguments for vector similarity number of parameters: Could not convert argument "
            "to expected type");
  EXPECT_EQ(ErrorOf(v), "Bad arguments for vector similarity algorithm: Expected an argument, "
                        "but none provided");
  // Vector fields take no SORTABLE: it starts a new field.
  EXPECT_EQ(ErrorOf(v + "HNSW 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2 SORTABLE"),
            "Field `SORTABLE` does not have a type");
  EXPECT_EQ(ErrorOf(v + "HNSW 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2 INDEXMISSING"), "<ok>");
}

TEST(SchemaTest, TooManyFields) {
  std::string line = "FT.CREATE i SCHEMA";
  for (int i = 0; i < 129; ++i) line += " t" + std::to_string(i) + " TEXT";
  EXPECT_EQ(ErrorOf(line), "Too many TEXT fields in schema");
  std::string many = "FT.CREATE i SCHEMA";
  for (int i = 0; i < 1025; ++i) many += " n" + std::to_string(i) + " NUMERIC";
  EXPECT_EQ(ErrorOf(many), "Schema is limited to 1024 fields");
}

// Every prefix of valid commands either parses or fails cleanly.
TEST(SchemaTest, EveryTruncationFailsCleanly) {
  const std::vector<std::string> words = Split(
      "FT.CREATE idx ON HASH PREFIX 2 a: b: SCORE 1.0 LANGUAGE english STOPWORDS 1 the SCHEMA "
      "v VECTOR HNSW 10 TYPE FLOAT32 DIM 4 DISTANCE_METRIC COSINE M 8 EF_RUNTIME 5 t TEXT WEIGHT 2 "
      "NOSTEM SORTABLE UNF g AS tag TAG SEPARATOR ; CASESENSITIVE n NUMERIC SORTABLE");
  for (size_t n = 1; n <= words.size(); ++n) {
    std::vector<std::string_view> args(words.begin() + 1, words.begin() + static_cast<ptrdiff_t>(n));
    auto r = ParseFtCreate(args);
    if (n == words.size()) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->fields.size(), 4u);
    } else if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_FALSE(r.status().message().empty());
    }
  }
}

TEST(SchemaTest, DescribesFieldsForFtInfo) {
  auto s = Create(
      "FT.CREATE i ON HASH PREFIX 1 doc: SCHEMA v VECTOR HNSW 6 TYPE FLOAT32 DIM 1536 "
      "DISTANCE_METRIC COSINE t AS title TEXT SORTABLE UNF g TAG CASESENSITIVE "
      "f VECTOR FLAT 6 TYPE FLOAT64 DIM 2 DISTANCE_METRIC L2 n NUMERIC NOINDEX");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  const AttributeDescription v = DescribeField(s->fields[0]);
  EXPECT_EQ(v.pairs, (Pairs{{"identifier", "v"}, {"attribute", "v"}, {"type", "VECTOR"},
                            {"algorithm", "HNSW"}, {"data_type", "FLOAT32"}, {"dim", "1536"},
                            {"distance_metric", "COSINE"}, {"M", "16"},
                            {"ef_construction", "200"}, {"ef_runtime", "10"},
                            {"epsilon", "0.01"}}));
  const AttributeDescription t = DescribeField(s->fields[1]);
  EXPECT_EQ(t.pairs, (Pairs{{"identifier", "t"}, {"attribute", "title"}, {"type", "TEXT"},
                            {"WEIGHT", "1"}}));
  EXPECT_EQ(t.flags, (std::vector<std::string>{"SORTABLE", "UNF"}));
  const AttributeDescription g = DescribeField(s->fields[2]);
  EXPECT_EQ(g.pairs.back(), (std::pair<std::string, std::string>{"SEPARATOR", ","}));
  EXPECT_EQ(g.flags, std::vector<std::string>{"CASESENSITIVE"});
  EXPECT_EQ(DescribeField(s->fields[3]).pairs.size(), 7u);  // FLAT: no HNSW knobs
  EXPECT_EQ(DescribeField(s->fields[4]).flags, std::vector<std::string>{"NOINDEX"});
  EXPECT_EQ(DescribeDefinition(*s), (Pairs{{"key_type", "HASH"}, {"prefixes", ""},
                                           {"default_score", "1"}}));
}

TEST(SchemaTest, AlterAddsFields) {
  auto base = Create("FT.CREATE i SCHEMA t TEXT");
  ASSERT_TRUE(base.ok());
  const std::vector<std::string> words = Split("i SCHEMA ADD n NUMERIC g TAG");
  std::vector<std::string_view> args(words.begin(), words.end());
  auto added = ParseFtAlter(args, *base);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ASSERT_EQ(added->size(), 2u);
  EXPECT_EQ((*added)[1].type, FieldType::kTag);

  const std::vector<std::string> dup = Split("i SKIPINITIALSCAN SCHEMA ADD t TAG");
  std::vector<std::string_view> dup_args(dup.begin(), dup.end());
  EXPECT_EQ(ParseFtAlter(dup_args, *base).status().message(), "Duplicate field in schema - t");
  const std::vector<std::string> bad = Split("i ADD t TAG");
  std::vector<std::string_view> bad_args(bad.begin(), bad.end());
  EXPECT_EQ(ParseFtAlter(bad_args, *base).status().message(), "ALTER must be followed by SCHEMA");
  const std::vector<std::string> drop = Split("i SCHEMA DROP t");
  std::vector<std::string_view> drop_args(drop.begin(), drop.end());
  EXPECT_EQ(ParseFtAlter(drop_args, *base).status().message(),
            "Unknown action passed to ALTER SCHEMA");
}

}  // namespace
}  // namespace ragkv::search
