#include <gtest/gtest.h>

#include <limits>

#include <string>
#include <string_view>
#include <vector>

#include "search/errors.h"
#include "search/query.h"

namespace ragkv::search {
namespace {

// Owned arguments (blobs may hold NUL bytes) plus views over them.
struct Args {
  explicit Args(std::vector<std::string> words) : owned(std::move(words)) {
    for (const auto& w : owned) views.emplace_back(w);
  }
  std::vector<std::string> owned;
  std::vector<std::string_view> views;
};

const std::string kBlob("\x00\x00\x80\x3f\xff\x00\x0a\x0d", 8);

std::string SearchError(std::vector<std::string> words) {
  Args a(std::move(words));
  auto r = ParseFtSearch(a.views);
  if (r.ok()) return "<ok>";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

TEST(FtSearchArgsTest, LangChainNodeRedisV4Order) {
  Args a({"idx", "* => [KNN 4 @content_vector $vector AS vector_score]", "RETURN", "3", "metadata",
          "content", "vector_score", "SORTBY", "vector_score", "LIMIT", "0", "4", "PARAMS", "2",
          "vector", kBlob, "DIALECT", "2"});
  auto r = ParseFtSearch(a.views);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->index, "idx");
  ASSERT_TRUE(r->return_fields.has_value());
  ASSERT_EQ(r->return_fields->size(), 3u);
  EXPECT_EQ((*r->return_fields)[2].name, "vector_score");
  EXPECT_EQ((*r->return_fields)[2].alias, "vector_score");
  ASSERT_TRUE(r->sort_by.has_value());
  EXPECT_EQ(r->sort_by->field, "vector_score");
  EXPECT_TRUE(r->sort_by->ascending);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(r->limit, 4u);
  EXPECT_EQ(r->dialect, 2);
  ASSERT_TRUE(r->query.knn.has_value());
  EXPECT_EQ(r->query.knn->blob, kBlob);  // binary-safe, NULs included
  EXPECT_EQ(r->query.knn->k, 4u);
}

TEST(FtSearchArgsTest, RedisPyLowercaseParamsLast) {
  Args a({"idx", "(@tag:{a|b})=>[KNN 10 @v $vec AS score]", "RETURN", "2", "content", "score",
          "SORTBY", "score", "ASC", "DIALECT", "2", "LIMIT", "0", "10", "params", "2", "vec",
          kBlob});
  auto r = ParseFtSearch(a.views);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->params.at("vec"), kBlob);
  EXPECT_EQ(r->query.knn->score_alias, "score");
  EXPECT_EQ(r->query.root->kind, NodeKind::kTag);
}

TEST(FtSearchArgsTest, RedisOmPythonKAsParameter) {
  Args a({"idx", "(*)=>[KNN $K @embedding $knn_ref_vector AS vector_distance]", "LIMIT", "0", "5",
          "SORTBY", "vector_distance", "ASC", "PARAMS", "4", "K", "5", "knn_ref_vector", kBlob,
          "DIALECT", "2"});
  auto r = ParseFtSearch(a.views);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->query.knn->k, 5u);
  EXPECT_EQ(r->limit, 5u);
}

TEST(FtSearchArgsTest, NodeRedisV5AndFlags) {
  Args a({"idx", "@title:hello", "NOCONTENT", "VERBATIM", "NOSTOPWORDS", "WITHSCORES",
          "WITHPAYLOADS", "WITHSORTKEYS", "INKEYS", "2", "k1", "k2", "INFIELDS", "1", "title",
          "SLOP", "2", "TIMEOUT", "500", "INORDER", "LANGUAGE", "english", "EXPANDER", "x",
          "SCORER", "BM25", "EXPLAINSCORE", "PAYLOAD", "p", "SORTBY", "@year", "DESC", "WITHCOUNT",
          "LIMIT", "10", "20", "DIALECT", "2"});
  auto r = ParseFtSearch(a.views);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->no_content && r->verbatim && r->no_stopwords && r->with_scores);
  EXPECT_TRUE(r->with_payloads && r->with_sort_keys && r->in_order && r->explain_score);
  EXPECT_EQ(r->in_keys, (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(r->in_fields, std::vector<std::string>{"title"});
  EXPECT_EQ(r->slop, 2u);
  EXPECT_EQ(r->timeout_ms, 500u);
  EXPECT_EQ(r->scorer, "BM25");
  EXPECT_EQ(r->sort_by->field, "year");
  EXPECT_FALSE(r->sort_by->ascending);
  EXPECT_EQ(r->offset, 10u);
  EXPECT_EQ(r->limit, 20u);
}

TEST(FtSearchArgsTest, ReturnWithAliasesAndReturnZero) {
  Args a({"idx", "*", "RETURN", "4", "title", "AS", "t", "year"});
  auto r = ParseFtSearch(a.views);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->return_fields->size(), 2u);
  EXPECT_EQ((*r->return_fields)[0].alias, "t");
  EXPECT_EQ((*r->return_fields)[1].alias, "year");
  // redis-om-node: RETURN 0 means ids only.
  Args om({"Person:index", "*", "LIMIT", "0", "10", "SORTBY", "age", "DESC", "RETURN", "0"});
  auto o = ParseFtSearch(om.views);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(o->no_content);
  EXPECT_TRUE(o->return_fields->empty());
}

TEST(FtSearchArgsTest, LegacyFiltersSummarizeHighlight) {
  Args a({"idx", "hello", "FILTER", "price", "(10", "+inf", "GEOFILTER", "loc", "-122.4", "37.7",
          "5", "km", "SUMMARIZE", "FIELDS", "1", "body", "FRAGS", "3", "LEN", "20", "SEPARATOR",
          "...", "HIGHLIGHT", "FIELDS", "1", "body", "TAGS", "<b>", "</b>", "WITHSCORES"});
  auto r = ParseFtSearch(a.views);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->numeric_filters.size(), 1u);
  EXPECT_TRUE(r->numeric_filters[0].lo.exclusive);
  EXPECT_EQ(r->numeric_filters[0].hi.value, std::numeric_limits<double>::infinity());
  ASSERT_EQ(r->geo_filters.size(), 1u);
  EXPECT_EQ(r->geo_filters[0].unit, "km");
  EXPECT_TRUE(r->with_scores);
}

TEST(FtSearchArgsTest, ErrorsUseRediSearchTexts) {
  EXPECT_EQ(SearchError({"idx", "*", "LIMIT", "0", "1000001"}), "LIMIT exceeds maximum of 1000000");
  EXPECT_EQ(SearchError({"idx", "*", "LIMIT", "999999", "2"}), "LIMIT exceeds maximum of 1000000");
  EXPECT_EQ(SearchError({"idx", "*", "LIMIT", "18446744073709551615", "1"}),
            "LIMIT exceeds maximum of 1000000");
  EXPECT_EQ(SearchError({"idx", "*", "LIMIT", "0"}),
            "Bad arguments for LIMIT: Expected an argument, but none provided");
  EXPECT_EQ(SearchError({"idx", "*", "LIMIT", "-1", "10"}),
            "Bad arguments for LIMIT: Could not convert argument to expected type");
  EXPECT_EQ(SearchError({"idx", "*", "PARAMS", "3", "a", "b", "c"}),
            "Parameters must be specified in PARAM VALUE pairs");
  EXPECT_EQ(SearchError({"idx", "*", "PARAMS", "4", "a", "1"}),
            "Bad arguments for PARAMS: Expected an argument, but none provided");
  EXPECT_EQ(SearchError({"idx", "*", "PARAMS", "4", "a", "1", "a", "2"}),
            "Duplicate parameter `a`");
  EXPECT_EQ(SearchError({"idx", "*", "DIALECT", "5"}),
            "DIALECT requires a non negative integer >=1 and <= 4");
  EXPECT_EQ(SearchError({"idx", "*", "DIALECT", "0"}),
            "DIALECT requires a non negative integer >=1 and <= 4");
  EXPECT_EQ(SearchError({"idx", "*", "BOGUS"}), "Unknown argument `BOGUS`");
  EXPECT_EQ(SearchError({"idx", "*", "RETURN", "3", "a"}),
            "Bad arguments for RETURN: Expected an argument, but none provided");
  EXPECT_EQ(SearchError({"idx", "*", "RETURN", "2", "a", "AS"}),
            "Bad arguments for RETURN: Expected an argument, but none provided");
  EXPECT_EQ(SearchError({"idx", "*", "GEOFILTER", "loc", "1", "2", "3", "parsec"}),
            "Bad arguments for GEOFILTER: Unknown argument");
  EXPECT_EQ(SearchError({"idx", "*=>[KNN 5 @v $B]"}), "No such parameter `B`");
  EXPECT_EQ(SearchError({"idx", "*=>[KNN 5000000 @v $B]", "PARAMS", "2", "B", "x"}),
            "Error parsing vector similarity query: K must be between 1 and 1000000");
  EXPECT_EQ(SearchError({"idx", "hello )"}), "Syntax error at offset 6 near )");
  EXPECT_EQ(SearchError({"idx"}), "Bad arguments for FT.SEARCH: Expected an argument, but none provided");
}

TEST(FtSearchArgsTest, EveryTruncationFailsCleanly) {
  const std::vector<std::string> words = {
      "idx", "(@t:{a}) => [KNN 3 @v $B AS s]", "RETURN", "3", "x", "AS", "y", "SORTBY", "s",
      "DESC", "LIMIT", "0", "3", "FILTER", "n", "1", "2", "INKEYS", "1", "k", "params", "2", "B",
      kBlob, "TIMEOUT", "10", "DIALECT", "3"};
  for (size_t n = 0; n <= words.size(); ++n) {
    Args a(std::vector<std::string>(words.begin(), words.begin() + static_cast<ptrdiff_t>(n)));
    auto r = ParseFtSearch(a.views);
    if (n == words.size()) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    } else if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(FtAggregateArgsTest, KnnLoadSortBy) {
  Args a({"idx", "*=>[KNN 10 @v $B AS d]", "PARAMS", "2", "B", kBlob, "LOAD", "2", "@d", "@title",
          "SORTBY", "2", "@d", "ASC", "DIALECT", "2"});
  auto r = ParseFtAggregate(a.views);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->load.size(), 2u);
  EXPECT_EQ(r->load[0].name, "d");
  ASSERT_EQ(r->steps.size(), 1u);
  EXPECT_EQ(r->steps[0].kind, AggregateStep::Kind::kSortBy);
  ASSERT_EQ(r->steps[0].sort_by.size(), 1u);
  EXPECT_EQ(r->steps[0].sort_by[0].field, "d");
  EXPECT_EQ(r->query.knn->k, 10u);
}

TEST(FtAggregateArgsTest, GroupByReducersApplyLimitPipeline) {
  Args a({"idx", "@price:[0 +inf]", "LOAD", "*", "GROUPBY", "1", "@tag", "REDUCE", "COUNT", "0",
          "AS", "n", "REDUCE", "SUM", "1", "@price", "REDUCE", "AVG", "1", "@price", "AS", "avg",
          "SORTBY", "4", "@n", "DESC", "@tag", "ASC", "MAX", "10", "APPLY", "@avg*2", "AS",
          "double", "FILTER", "@n>1", "LIMIT", "0", "5", "WITHCURSOR", "COUNT", "100", "MAXIDLE",
          "1000", "TIMEOUT", "50"});
  auto r = ParseFtAggregate(a.views);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->load_all);
  ASSERT_EQ(r->steps.size(), 5u);
  const GroupBy& g = r->steps[0].group_by;
  EXPECT_EQ(g.properties, std::vector<std::string>{"tag"});
  ASSERT_EQ(g.reducers.size(), 3u);
  EXPECT_EQ(g.reducers[0].kind, ReducerKind::kCount);
  EXPECT_EQ(g.reducers[0].alias, "n");
  EXPECT_EQ(g.reducers[1].alias, "__generated_aliassumprice");
  EXPECT_EQ(g.reducers[2].args, std::vector<std::string>{"price"});
  const AggregateStep& sort = r->steps[1];
  ASSERT_EQ(sort.sort_by.size(), 2u);
  EXPECT_FALSE(sort.sort_by[0].ascending);
  EXPECT_TRUE(sort.sort_by[1].ascending);
  EXPECT_EQ(sort.sort_max, 10u);
  EXPECT_EQ(r->steps[2].apply.alias, "double");
  EXPECT_EQ(r->steps[3].filter, "@n>1");
  EXPECT_EQ(r->steps[4].limit, 5u);
  EXPECT_TRUE(r->with_cursor);
  EXPECT_EQ(r->cursor_count, 100u);
}

TEST(FtAggregateArgsTest, Errors) {
  auto err = [](std::vector<std::string> words) {
    Args a(std::move(words));
    auto r = ParseFtAggregate(a.views);
    return r.ok() ? std::string("<ok>") : std::string(r.status().message());
  };
  EXPECT_EQ(err({"idx", "*", "GROUPBY", "1", "@t", "REDUCE", "MEDIAN", "1", "@x"}),
            "No such reducer: MEDIAN");
  EXPECT_EQ(err({"idx", "*", "GROUPBY", "1", "@t", "REDUCE", "SUM", "0"}),
            "Bad arguments for SUM: expected 1 argument(s)");
  EXPECT_EQ(err({"idx", "*", "SORTBY", "1", "ASC"}),
            "Bad arguments for SORTBY: direction without a property");
  EXPECT_EQ(err({"idx", "*", "LIMIT", "0", "2000000"}), "LIMIT exceeds maximum of 1000000");
  EXPECT_EQ(err({"idx", "*", "NOPE"}), "Unknown argument `NOPE`");
}

TEST(SearchErrorsTest, StateDependentTexts) {
  EXPECT_EQ(errors::NoSuchIndex("idx"), "idx: no such index");
  EXPECT_EQ(errors::BlobSizeMismatch(12, 16),
            "Error parsing vector similarity query: query vector blob size (12) does not match "
            "index's expected size (16).");
  EXPECT_EQ(errors::kUnknownIndexNameDrop, "Unknown Index name");
}

}  // namespace
}  // namespace ragkv::search
