#include "search/query.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ragkv::search {
namespace {

const QueryParams kNoParams;

// Parses `q`, expects success, and checks that the canonical form is a fixed
// point: parsing ToString() again prints the same text.
std::string Canonical(std::string_view q, const QueryParams& params = kNoParams) {
  auto parsed = ParseQuery(q, params);
  EXPECT_TRUE(parsed.ok()) << q << ": " << parsed.status().ToString();
  if (!parsed.ok()) return "<error>";
  const std::string text = parsed->ToString();
  auto again = ParseQuery(text, params);
  EXPECT_TRUE(again.ok()) << "canonical form does not parse: " << text << ": "
                          << again.status().ToString();
  if (again.ok()) {
    EXPECT_EQ(again->ToString(), text) << "round trip of " << q;
  }
  return text;
}

std::string ErrorOf(std::string_view q, const QueryParams& params = kNoParams) {
  auto parsed = ParseQuery(q, params);
  if (parsed.ok()) return "<ok: " + parsed->ToString() + ">";
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(QueryTest, WildcardTermsPrefixesFuzzy) {
  EXPECT_EQ(Canonical("*"), "*");
  EXPECT_EQ(Canonical("  *  "), "*");
  EXPECT_EQ(Canonical("hello"), "hello");
  EXPECT_EQ(Canonical("hel*"), "hel*");
  EXPECT_EQ(Canonical("%hello%"), "%hello%");
  EXPECT_EQ(Canonical("%%%hello%%%"), "%%%hello%%%");
  EXPECT_EQ(Canonical("caf\xc3\xa9"), "caf\xc3\xa9");  // UTF-8 is term text
  EXPECT_EQ(Canonical("hello\\ world"), "hello\\ world");
  EXPECT_EQ(Canonical("\"hello world\""), "\"hello world\"");
  EXPECT_EQ(Canonical("\"hello, big world!\""), "\"hello big world\"");
}

TEST(QueryTest, Dialect2Precedence) {
  EXPECT_EQ(Canonical("hello world"), "(hello world)");
  EXPECT_EQ(Canonical("hello|world"), "(hello | world)");
  // The dialects page's example: (hello world) OR ("goodbye" moon).
  EXPECT_EQ(Canonical("hello world | \"goodbye\" moon"), "((hello world) | (\"goodbye\" moon))");
  EXPECT_EQ(Canonical("a (b | c) d"), "(a (b | c) d)");
  EXPECT_EQ(Canonical("-hello world"), "(-hello world)");
  EXPECT_EQ(Canonical("-(a|b)"), "-(a | b)");
  EXPECT_EQ(Canonical("~maybe must"), "(~maybe must)");
  // A field scopes only the next unary: "(@name:James) Brown".
  EXPECT_EQ(Canonical("@name:James Brown"), "(@name:James Brown)");
  EXPECT_EQ(Canonical("@name:(James Brown)"), "(@name:James @name:Brown)");
}

TEST(QueryTest, FieldScopedText) {
  EXPECT_EQ(Canonical("@title:hello"), "@title:hello");
  EXPECT_EQ(Canonical("@title|body:hello"), "@title|body:hello");
  EXPECT_EQ(Canonical("@title:(a|b)"), "(@title:a | @title:b)");
  EXPECT_EQ(Canonical("@f:(\"exact phrase\")"), "@f:\"exact phrase\"");
  EXPECT_EQ(Canonical("@f:(%%term%%)"), "@f:%%term%%");
  EXPECT_EQ(Canonical("@f:(pre*)"), "@f:pre*");
  EXPECT_EQ(Canonical("-@f:hello"), "-@f:hello");
  EXPECT_EQ(Canonical("@metadata.category:x"), "@metadata.category:x");
  // LangChain JS legacy store: a metadata match on a TEXT field.
  EXPECT_EQ(Canonical("@metadata:(foo|bar)"), "(@metadata:foo | @metadata:bar)");
}

TEST(QueryTest, Tags) {
  EXPECT_EQ(Canonical("@tag:{a}"), "@tag:{a}");
  EXPECT_EQ(Canonical("@tag:{a|b}"), "@tag:{a | b}");
  EXPECT_EQ(Canonical("@tag:{ a | b }"), "@tag:{a | b}");
  // Unescaped spaces inside a tag belong to it (dialect 2).
  EXPECT_EQ(Canonical("@tag:{hello world | foo*}"), "@tag:{hello\\ world | foo*}");
  // LangChain escapes punctuation and spaces with backslashes.
  auto q = ParseQuery("@f:{hello\\ world\\,\\.\\*}", kNoParams);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->root->tags.size(), 1u);
  EXPECT_EQ(q->root->tags[0].value, "hello world,.*");
  EXPECT_FALSE(q->root->tags[0].prefix);
  EXPECT_EQ(Canonical("(-@f:{v})"), "-@f:{v}");
  EXPECT_EQ(Canonical("@tag:{$t}", {{"t", "x y"}}), "@tag:{x\\ y}");
}

TEST(QueryTest, NumericRanges) {
  EXPECT_EQ(Canonical("@num:[1 5]"), "@num:[1 5]");
  EXPECT_EQ(Canonical("@num:[(1 +inf]"), "@num:[(1 inf]");
  EXPECT_EQ(Canonical("@num:[-inf (5.5]"), "@num:[-inf (5.5]");
  EXPECT_EQ(Canonical("@num:[ 1e3  2e3 ]"), "@num:[1000 2000]");
  EXPECT_EQ(Canonical("@num:[0.1 (1e-300]"), "@num:[0.1 (1e-300]");
  EXPECT_EQ(Canonical("@num:[0.30000000000000004 1e300]"), "@num:[0.30000000000000004 1e+300]");
  EXPECT_EQ(Canonical("(-@f:[7 7])"), "-@f:[7 7]");
  EXPECT_EQ(Canonical("@num:[$lo $hi]", {{"lo", "2"}, {"hi", "(9"}}), "@num:[2 (9]");
  auto q = ParseQuery("@price:[(10.5 20]", kNoParams);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->root->kind, NodeKind::kNumericRange);
  EXPECT_TRUE(q->root->lo.exclusive);
  EXPECT_DOUBLE_EQ(q->root->lo.value, 10.5);
  EXPECT_FALSE(q->root->hi.exclusive);
}

TEST(QueryTest, KnnClauseFromEveryClient) {
  const QueryParams params = {{"vector", std::string("\x00\x01\xff\x7f", 4)},
                              {"BLOB", "bytes"},
                              {"K", "5"},
                              {"knn_ref_vector", "v"},
                              {"EF", "77"}};
  // LangChain JS (spaces around =>).
  auto lc = ParseQuery("* => [KNN 4 @content_vector $vector AS vector_score]", params);
  ASSERT_TRUE(lc.ok()) << lc.status().ToString();
  ASSERT_TRUE(lc->knn.has_value());
  EXPECT_EQ(lc->root->kind, NodeKind::kMatchAll);
  EXPECT_EQ(lc->knn->k, 4u);
  EXPECT_EQ(lc->knn->field, "content_vector");
  EXPECT_EQ(lc->knn->blob, std::string("\x00\x01\xff\x7f", 4));
  EXPECT_EQ(lc->knn->blob_param, "vector");
  EXPECT_EQ(lc->knn->score_alias, "vector_score");
  // redis-om-python: K as a parameter, filter in parentheses.
  auto om = ParseQuery("(*)=>[KNN $K @v $knn_ref_vector AS dist]", params);
  ASSERT_TRUE(om.ok()) << om.status().ToString();
  EXPECT_EQ(om->knn->k, 5u);
  // Hybrid with a pre-filter and runtime attributes.
  auto hy = ParseQuery("(@tag:{a|b} @num:[1 5])=>[KNN 10 @vec $BLOB EF_RUNTIME $EF AS score]",
                       params);
  ASSERT_TRUE(hy.ok()) << hy.status().ToString();
  EXPECT_EQ(hy->root->kind, NodeKind::kAnd);
  EXPECT_EQ(hy->knn->ef_runtime, 77u);
  // Default score name and the attribute form.
  auto def = ParseQuery("*=>[KNN 3 @emb $BLOB]", params);
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->knn->score_alias, "__emb_score");
  auto attrs = ParseQuery(
      "*=>[KNN 3 @emb $BLOB]=>{$YIELD_DISTANCE_AS: d; $EF_RUNTIME: 40; $HYBRID_POLICY: batches; "
      "$BATCH_SIZE: 50}",
      params);
  ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
  EXPECT_EQ(attrs->knn->score_alias, "d");
  EXPECT_EQ(attrs->knn->ef_runtime, 40u);
  EXPECT_EQ(attrs->knn->hybrid_policy, "BATCHES");
  EXPECT_EQ(attrs->knn->batch_size, 50u);
  // LangChain legacy filter, fluent filters.
  EXPECT_EQ(Canonical("@metadata:(foo|bar) => [KNN 4 @content_vector $vector AS vector_score]",
                      params),
            "(@metadata:foo | @metadata:bar)=>[KNN 4 @content_vector $vector AS vector_score]");
  EXPECT_EQ(Canonical("(@f:{v1|v2} @n:[(1 +inf])=>[KNN 2 @v $BLOB HYBRID_POLICY ADHOC_BF AS s]",
                      params),
            "(@f:{v1 | v2} @n:[(1 inf])=>[KNN 2 @v $BLOB HYBRID_POLICY ADHOC_BF AS s]");
  // k = 0 is legal (RediSearch fixed a crash there).
  EXPECT_EQ(ParseQuery("*=>[KNN 0 @v $BLOB]", params)->knn->k, 0u);
}

TEST(QueryTest, VectorRange) {
  const QueryParams params = {{"BLOB", "xyz"}, {"R", "0.25"}};
  auto q = ParseQuery("@v:[VECTOR_RANGE $R $BLOB]=>{$YIELD_DISTANCE_AS: dist; $EPSILON: 0.5}",
                      params);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->root->kind, NodeKind::kVectorRange);
  EXPECT_DOUBLE_EQ(q->root->radius, 0.25);
  EXPECT_EQ(q->root->blob, "xyz");
  EXPECT_EQ(q->root->attributes.at("yield_distance_as"), "dist");
  EXPECT_EQ(q->root->attributes.at("epsilon"), "0.5");
  // redisvl / langchain-redis: parenthesised, with a filter.
  EXPECT_EQ(Canonical("(@v:[VECTOR_RANGE 5 $BLOB]=>{$yield_distance_as: d} @_index_name:(\"x\"))",
                      params),
            "(@v:[VECTOR_RANGE 5 $BLOB]=>{$yield_distance_as: d} @_index_name:\"x\")");
  // As the pre-filter of a KNN query.
  EXPECT_TRUE(ParseQuery("@v:[VECTOR_RANGE 1 $BLOB]=>[KNN 3 @v $BLOB]", params).ok());
}

TEST(QueryTest, GeoRadius) {
  auto q = ParseQuery("@loc:[-122.41 37.77 10 KM]", {});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->root->kind, NodeKind::kGeoRadius);
  EXPECT_EQ(q->root->fields, std::vector<std::string>{"loc"});
  EXPECT_DOUBLE_EQ(q->root->lon, -122.41);
  EXPECT_DOUBLE_EQ(q->root->lat, 37.77);
  EXPECT_DOUBLE_EQ(q->root->radius, 10);
  EXPECT_EQ(q->root->unit, "km");
  // LangChain's FluentRedisVectorStore form, params, and every unit.
  const QueryParams params = {{"r", "5"}, {"u", "mi"}};
  EXPECT_EQ(Canonical("(@loc:[2.35 48.85 $r $u] @t:{a})", params),
            "(@loc:[2.35 48.85 5 mi] @t:{a})");
  for (const char* unit : {"m", "km", "mi", "ft"}) {
    EXPECT_TRUE(ParseQuery(std::string("@g:[0 0 1 ") + unit + "]", {}).ok()) << unit;
  }
  EXPECT_EQ(ErrorOf("@g:[0 0 1 yd]"), "Syntax error at offset 10 near yd");
  EXPECT_EQ(ErrorOf("@g:[(0 0 1 km]"), "Syntax error at offset 4 near (");
  EXPECT_EQ(ErrorOf("@g:[0 0 1 km"), "Syntax error at offset 12 near ");
  EXPECT_EQ(ErrorOf("@g:[181 0 1 km]"), "Invalid GeoFilter lat/lon");
  EXPECT_EQ(ErrorOf("@g:[0 86 1 km]"), "Invalid GeoFilter lat/lon");
  EXPECT_EQ(ErrorOf("@g:[0 0 -1 km]"), "Invalid GeoFilter radius");
  EXPECT_NE(Explain(*q).find("GEO @loc:{-122.410000,37.770000 --> 10.000000 km}"),
            std::string::npos)
      << Explain(*q);
}

TEST(QueryTest, SyntaxErrorsCarryOffsetAndToken) {
  EXPECT_EQ(ErrorOf(")"), "Syntax error at offset 0 near )");
  EXPECT_EQ(ErrorOf(""), "Syntax error at offset 0 near ");
  EXPECT_EQ(ErrorOf("hello )"), "Syntax error at offset 6 near )");
  EXPECT_EQ(ErrorOf("hello (world"), "Syntax error at offset 12 near ");
  EXPECT_EQ(ErrorOf("@num:[1 x]"), "Syntax error at offset 8 near x");
  EXPECT_EQ(ErrorOf("@num:[1 2"), "Syntax error at offset 9 near ");
  EXPECT_EQ(ErrorOf("@tag:{a"), "Syntax error at offset 7 near ");
  EXPECT_EQ(ErrorOf("@tag:{}"), "Syntax error at offset 6 near }");
  EXPECT_EQ(ErrorOf("@:x"), "Syntax error at offset 0 near @");
  EXPECT_EQ(ErrorOf("@title hello"), "Syntax error at offset 7 near hello");
  EXPECT_EQ(ErrorOf("a || b"), "Syntax error at offset 3 near |");
  EXPECT_EQ(ErrorOf("\"unterminated"), "Syntax error at offset 0 near \"");
  EXPECT_EQ(ErrorOf("trailing\\"), "Syntax error at offset 8 near \\");
  EXPECT_EQ(ErrorOf("*=>[KNN 10 @v BLOB]"), "Syntax error at offset 14 near BLOB");
  EXPECT_EQ(ErrorOf("*=>[KNX 10 @v $B]", {{"B", "b"}}), "Syntax error at offset 4 near KNX");
  EXPECT_EQ(ErrorOf("*=>[KNN ten @v $B]", {{"B", "b"}}), "Syntax error at offset 8 near ten");
  EXPECT_EQ(ErrorOf("*=>[KNN 10 @v $B FOO 1]", {{"B", "b"}}),
            "Syntax error at offset 17 near FOO");
  EXPECT_EQ(ErrorOf("* => (x)"), "Syntax error at offset 2 near =>");
  EXPECT_EQ(ErrorOf("%%%%x%%%%"), "Syntax error at offset 0 near %");
}

TEST(QueryTest, ParameterErrors) {
  EXPECT_EQ(ErrorOf("*=>[KNN 10 @v $MISSING]"), "No such parameter `MISSING`");
  EXPECT_EQ(ErrorOf("@n:[$lo 5]"), "No such parameter `lo`");
  EXPECT_EQ(ErrorOf("@n:[$lo 5]", {{"lo", "abc"}}), "Syntax error at offset 4 near $");
  EXPECT_EQ(ErrorOf("*=>[KNN $K @v $B]", {{"K", "-1"}, {"B", "b"}}),
            "Syntax error at offset 8 near $");
}

TEST(QueryTest, CapsRejectHugeValues) {
  const QueryParams params = {{"B", "b"}, {"K", "1000001"}};
  EXPECT_EQ(ErrorOf("*=>[KNN 1000001 @v $B]", params),
            "Error parsing vector similarity query: K must be between 1 and 1000000");
  EXPECT_EQ(ErrorOf("*=>[KNN $K @v $B]", params),
            "Error parsing vector similarity query: K must be between 1 and 1000000");
  EXPECT_EQ(ErrorOf("*=>[KNN 99999999999999999999 @v $B]", params),
            "Syntax error at offset 8 near 99999999999999999999");
  EXPECT_EQ(ErrorOf("*=>[KNN 10 @v $B EF_RUNTIME 5000000]", params),
            "Error parsing vector similarity query: EF_RUNTIME must be between 1 and 1000000");
  EXPECT_TRUE(ParseQuery("*=>[KNN 1000000 @v $B EF_RUNTIME 1000000]", params).ok());
  // Deep nesting is an error, not a stack overflow.
  const std::string deep = std::string(10000, '(') + "a" + std::string(10000, ')');
  EXPECT_NE(ErrorOf(deep).find("too deeply nested"), std::string::npos);
  const std::string negations = std::string(10000, '-') + "a";
  EXPECT_NE(ErrorOf(negations).find("too deeply nested"), std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kMaxQueryLength + 1, 'a')).find("too long"), std::string::npos);
}

TEST(QueryTest, ExplainUsesRediSearchLayout) {
  auto q = ParseQuery("(foo bar)|(hello world) @date:[100 (200]", kNoParams);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(Explain(*q),
            "UNION {\n"
            "  INTERSECT {\n"
            "    foo\n"
            "    bar\n"
            "  }\n"
            "  INTERSECT {\n"
            "    INTERSECT {\n"
            "      hello\n"
            "      world\n"
            "    }\n"
            "    NUMERIC {100.000000 <= @date < 200.000000}\n"
            "  }\n"
            "}\n");
  auto tags = ParseQuery("-@t:{a|b*} @title:\"x y\" %z% pre*", kNoParams);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(Explain(*tags),
            "INTERSECT {\n"
            "  NOT {\n"
            "    TAG:@t {\n"
            "      a\n"
            "      b*\n"
            "    }\n"
            "  }\n"
            "  @title:EXACT {\n"
            "    x\n"
            "    y\n"
            "  }\n"
            "  FUZZY{z}\n"
            "  PREFIX{pre*}\n"
            "}\n");
  const QueryParams params = {{"B", "b"}};
  EXPECT_EQ(Explain(*ParseQuery("*=>[KNN 3 @v $B AS s]", params)),
            "VECTOR {K=3 nearest vectors to `$B` in @v, AS `s`}\n");
  EXPECT_EQ(Explain(*ParseQuery("@x:{y}=>[KNN 3 @v $B]", params)),
            "VECTOR {\n"
            "  TAG:@x {\n"
            "    y\n"
            "  }\n"
            "} => {K=3 nearest vectors to `$B` in @v, AS `__v_score`}\n");
}

// Every prefix of every valid query parses or fails with kInvalidArgument.
TEST(QueryTest, EveryTruncationFailsCleanly) {
  const QueryParams params = {{"B", "blob"}, {"K", "3"}, {"t", "x"}};
  for (const char* q :
       {"(@tag:{a\\ b|c*} -@num:[(1 +inf]) | ~\"x y\" %%fz%%=>[KNN $K @v $B EF_RUNTIME 9 AS s]",
        "@v:[VECTOR_RANGE 0.5 $B]=>{$YIELD_DISTANCE_AS: d; $EPSILON: 0.1} @t|u:(a b* | $t)",
        "@loc:[-122.41 37.77 10 km] -@loc:[1 2 3 ft]"}) {
    const std::string full(q);
    ASSERT_TRUE(ParseQuery(full, params).ok()) << ParseQuery(full, params).status().ToString();
    for (size_t n = 0; n < full.size(); ++n) {
      auto r = ParseQuery(std::string_view(full).substr(0, n), params);
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << n;
      } else {
        EXPECT_TRUE(ParseQuery(r->ToString(), params).ok()) << r->ToString();
      }
    }
  }
}

// Seeded token soup: never crashes; whatever parses round-trips.
TEST(QueryTest, RandomTokenSoupRoundTrips) {
  static const char* kTokens[] = {"(", ")", "|", "-", "~", "*", " ", "  ", "@f:", "@g|h:", "{",
                                  "}", "[", "]", "=>", "$B", "$t", "\"", "%", "a", "bc", "d*",
                                  "\\ ", "1", "(2", "+inf", "-inf", ";", ":", "KNN", "5", "@v",
                                  "AS", "x", "VECTOR_RANGE", "=>[KNN 2 @v $B]", "=>{$weight: 2}"};
  const QueryParams params = {{"B", "blob"}, {"t", "tv"}};
  std::mt19937_64 rng(7);
  size_t parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string q;
    const size_t n = 1 + rng() % 12;
    for (size_t j = 0; j < n; ++j) q += kTokens[rng() % std::size(kTokens)];
    auto r = ParseQuery(q, params);
    if (!r.ok()) {
      ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument) << q;
      continue;
    }
    ++parsed;
    const std::string text = r->ToString();
    auto again = ParseQuery(text, params);
    ASSERT_TRUE(again.ok()) << q << " -> " << text << ": " << again.status().ToString();
    ASSERT_EQ(again->ToString(), text) << q;
  }
  EXPECT_GT(parsed, 500u);  // the soup must exercise the accepting paths too
}

}  // namespace
}  // namespace ragkv::search
