// FT.* commands through Engine::Execute: reply shapes (RESP2 and RESP3), the
// error texts clients match on, and indexes following the keyspace through
// every kind of write.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "search/index_manager.h"
#include "server/engine_fixture.h"

namespace ragkv::server {
namespace {

using ::ragkv::testing::ErrorStartsWith;
using ::ragkv::testing::IsError;
using ::ragkv::testing::IsInt;
using ::ragkv::testing::IsOk;
using ::ragkv::testing::IsStrings;

std::string Vec(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

class FtCommandsTest : public EngineTest {
 protected:
  void CreateIndex(const std::string& algo = "HNSW") {
    ASSERT_THAT(Run({"FT.CREATE", "idx", "ON", "HASH", "PREFIX", "1", "doc:", "SCORE", "1.0",
                     "SCHEMA", "v", "VECTOR", algo, "6", "TYPE", "FLOAT32", "DIM", "2",
                     "DISTANCE_METRIC", "L2", "tag", "TAG", "SEPARATOR", ",", "n", "NUMERIC",
                     "body", "TEXT", "WEIGHT", "1.0"}),
                IsOk());
  }
  void Doc(const std::string& key, float x, float y, const std::string& tag, int n,
           const std::string& body) {
    Run({"HSET", key, "v", Vec({x, y}), "tag", tag, "n", std::to_string(n), "body", body});
  }
  // Keys of a RESP2 FT.SEARCH reply with content (total, key, fields, ...).
  static std::vector<std::string> Keys(const resp::RespValue& r, size_t stride = 2) {
    std::vector<std::string> keys;
    for (size_t i = 1; i < r.elements.size(); i += stride) keys.push_back(r.elements[i].str);
    return keys;
  }
  resp::RespValue Knn(const std::string& filter, int k, std::vector<float> q) {
    return Run({"FT.SEARCH", "idx", filter + "=>[KNN " + std::to_string(k) + " @v $B AS d]",
                "SORTBY", "d", "RETURN", "1", "d", "PARAMS", "2", "B", Vec(q), "DIALECT", "2"});
  }
  int64_t NumDocs() {
    resp::RespValue info = Run({"FT.INFO", "idx"});
    for (size_t i = 0; i + 1 < info.elements.size(); i += 2) {
      if (info.elements[i].str == "num_docs") return info.elements[i + 1].integer;
    }
    return -1;
  }
};

TEST_F(FtCommandsTest, KnnReplyShapeResp2) {
  CreateIndex();
  Doc("doc:a", 0, 0, "x", 1, "hello world");
  Doc("doc:b", 3, 4, "y", 2, "hello there");
  Doc("doc:c", 1, 0, "x", 3, "goodbye");
  Run({"HSET", "other:z", "v", Vec({0, 0})});  // outside the prefix
  resp::RespValue r = Knn("*", 2, {0, 0});
  ASSERT_EQ(r.type, resp::RespType::kArray) << r.DebugString();
  ASSERT_EQ(r.elements.size(), 5u) << r.DebugString();
  EXPECT_THAT(r.elements[0], IsInt(2));
  EXPECT_EQ(r.elements[1].str, "doc:a");
  EXPECT_THAT(r.elements[2], IsStrings(std::vector<std::string>{"d", "0"}));
  EXPECT_EQ(r.elements[3].str, "doc:c");
  EXPECT_THAT(r.elements[4], IsStrings(std::vector<std::string>{"d", "1"}));
  // Squared L2, as RediSearch reports it.
  resp::RespValue far = Knn("*", 3, {0, 0});
  EXPECT_THAT(far.elements[6], IsStrings(std::vector<std::string>{"d", "25"}));
  // Default: all hash fields plus the distance; NOCONTENT; WITHSCORES.
  resp::RespValue all = Run({"FT.SEARCH", "idx", "*=>[KNN 1 @v $B]", "PARAMS", "2", "B",
                             Vec({3, 4})});
  ASSERT_EQ(all.elements.size(), 3u);
  EXPECT_EQ(all.elements[1].str, "doc:b");
  EXPECT_EQ(all.elements[2].elements.size(), 10u);  // __v_score + 4 fields
  EXPECT_EQ(all.elements[2].elements[0].str, "__v_score");
  resp::RespValue ids = Run({"FT.SEARCH", "idx", "@tag:{x}", "NOCONTENT", "WITHSCORES"});
  ASSERT_EQ(ids.elements.size(), 5u) << ids.DebugString();
  EXPECT_THAT(ids.elements[0], IsInt(2));
}

TEST_F(FtCommandsTest, KnnReplyShapeResp3) {
  CreateIndex();
  Doc("doc:a", 0, 0, "x", 1, "hello");
  Run({"HELLO", "3"});
  session_.resp = 3;
  resp::RespValue r = Knn("*", 5, {1, 0});
  ASSERT_EQ(r.type, resp::RespType::kMap) << r.DebugString();
  ASSERT_EQ(r.elements.size(), 10u);
  EXPECT_EQ(r.elements[0].str, "attributes");
  EXPECT_EQ(r.elements[2].str, "format");
  EXPECT_EQ(r.elements[4].str, "results");
  EXPECT_EQ(r.elements[6].str, "total_results");
  EXPECT_THAT(r.elements[7], IsInt(1));
  const resp::RespValue& row = r.elements[5].elements.at(0);
  ASSERT_EQ(row.type, resp::RespType::kMap);
  EXPECT_EQ(row.elements[0].str, "id");
  EXPECT_EQ(row.elements[1].str, "doc:a");
  EXPECT_EQ(row.elements[2].str, "extra_attributes");
  // The distance stays a bulk string ("1" is truthy for LangChain).
  EXPECT_EQ(row.elements[3].elements[1].type, resp::RespType::kBulkString);
  EXPECT_EQ(row.elements[3].elements[1].str, "1");
}

TEST_F(FtCommandsTest, HybridFiltersAndText) {
  CreateIndex("FLAT");
  Doc("doc:1", 0, 0, "red,Big", 10, "the quick brown fox");
  Doc("doc:2", 1, 1, "blue", 20, "lazy dogs sleep");
  Doc("doc:3", 2, 2, "red", 30, "quick foxes jump");
  Doc("doc:4", 3, 3, "green", 40, "brown dog");
  EXPECT_EQ(Keys(Knn("(@tag:{red} @n:[15 +inf])", 5, {0, 0})),
            (std::vector<std::string>{"doc:3"}));
  EXPECT_EQ(Keys(Knn("@tag:{big}", 5, {0, 0})), (std::vector<std::string>{"doc:1"}));
  EXPECT_EQ(Keys(Knn("fox", 5, {3, 3})), (std::vector<std::string>{"doc:3", "doc:1"}));
  EXPECT_EQ(Keys(Knn("-@tag:{red}", 1, {0, 0})), (std::vector<std::string>{"doc:2"}));
  EXPECT_EQ(Keys(Knn("@n:[(10 40]", 5, {3, 3})),
            (std::vector<std::string>{"doc:4", "doc:3", "doc:2"}));
  resp::RespValue text = Run({"FT.SEARCH", "idx", "@body:dog", "NOCONTENT"});
  EXPECT_THAT(text.elements[0], IsInt(2));
  resp::RespValue sorted = Run({"FT.SEARCH", "idx", "*", "SORTBY", "n", "DESC", "LIMIT", "0",
                                "2", "RETURN", "1", "n"});
  EXPECT_THAT(sorted.elements[0], IsInt(4));
  EXPECT_EQ(Keys(sorted), (std::vector<std::string>{"doc:4", "doc:3"}));
  resp::RespValue range = Run({"FT.SEARCH", "idx",
                               "@v:[VECTOR_RANGE 2.5 $B]=>{$YIELD_DISTANCE_AS: dist}", "PARAMS",
                               "2", "B", Vec({0, 0}), "SORTBY", "dist", "RETURN", "1", "dist"});
  EXPECT_EQ(Keys(range), (std::vector<std::string>{"doc:1", "doc:2"}));
  // Legacy FILTER option.
  resp::RespValue filt = Run({"FT.SEARCH", "idx", "*", "FILTER", "n", "15", "35", "NOCONTENT"});
  EXPECT_THAT(filt.elements[0], IsInt(2));
}

TEST_F(FtCommandsTest, IndexFollowsTheKeyspace) {
  CreateIndex();
  Doc("doc:1", 0, 0, "a", 1, "x");
  Doc("doc:2", 1, 0, "a", 2, "x");
  EXPECT_EQ(NumDocs(), 2);
  // Re-HSET replaces, never duplicates.
  Doc("doc:1", 5, 5, "a", 1, "x");
  Doc("doc:1", 5, 5, "a", 1, "x");
  EXPECT_EQ(NumDocs(), 2);
  EXPECT_EQ(Keys(Knn("*", 10, {0, 0})), (std::vector<std::string>{"doc:2", "doc:1"}));
  // HDEL of the vector: still a document, no longer a KNN candidate.
  Run({"HDEL", "doc:1", "v"});
  EXPECT_EQ(Keys(Knn("*", 10, {0, 0})), (std::vector<std::string>{"doc:2"}));
  EXPECT_EQ(NumDocs(), 2);
  Run({"DEL", "doc:1"});
  EXPECT_EQ(NumDocs(), 1);
  // RENAME out of and back into the prefix.
  Run({"RENAME", "doc:2", "tmp"});
  EXPECT_EQ(NumDocs(), 0);
  Run({"RENAME", "tmp", "doc:9"});
  EXPECT_EQ(Keys(Knn("*", 10, {0, 0})), (std::vector<std::string>{"doc:9"}));
  // Expiry (lazy, through a read).
  Run({"PEXPIRE", "doc:9", "100"});
  Advance(200);
  Run({"GET", "doc:9"});
  EXPECT_EQ(NumDocs(), 0);
  Doc("doc:3", 0, 0, "a", 1, "x");
  Run({"UNLINK", "doc:3"});
  EXPECT_EQ(NumDocs(), 0);
  // A wrong-size blob is not indexed and counts as a failure.
  Run({"HSET", "doc:bad", "v", "abc"});
  EXPECT_EQ(NumDocs(), 0);
  resp::RespValue info = Run({"FT.INFO", "idx"});
  bool seen = false;
  for (size_t i = 0; i + 1 < info.elements.size(); i += 2) {
    if (info.elements[i].str == "hash_indexing_failures") {
      EXPECT_GE(info.elements[i + 1].integer, 1);
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
  // FLUSHDB, SWAPDB.
  Doc("doc:4", 0, 0, "a", 1, "x");
  EXPECT_EQ(NumDocs(), 1);
  Run({"FLUSHDB"});
  EXPECT_EQ(NumDocs(), 0);
  Doc("doc:5", 0, 0, "a", 1, "x");
  Run({"SWAPDB", "0", "1"});
  EXPECT_EQ(NumDocs(), 0);
  Run({"SWAPDB", "0", "1"});
  EXPECT_EQ(NumDocs(), 1);
  Run({"COPY", "doc:5", "doc:55"});
  EXPECT_EQ(NumDocs(), 2);
  Run({"DEL", "doc:5", "doc:55"});
  EXPECT_EQ(NumDocs(), 0);
  Doc("doc:6", 0, 0, "a", 1, "x");
  Run({"FLUSHALL"});
  EXPECT_EQ(NumDocs(), 0);
  // MULTI/EXEC writes are indexed too.
  Run({"MULTI"});
  Doc("doc:7", 0, 0, "a", 1, "x");
  Run({"EXEC"});
  EXPECT_EQ(NumDocs(), 1);
}

TEST_F(FtCommandsTest, CreateBackfillsExistingKeys) {
  Run({"HSET", "doc:1", "v", Vec({1, 2}), "tag", "t"});
  Run({"HSET", "doc:2", "v", Vec({1, 2})});
  Run({"SET", "doc:3", "a string is skipped"});
  CreateIndex();
  EXPECT_EQ(NumDocs(), 2);
}

TEST_F(FtCommandsTest, BackgroundBackfillInfoAndSearch) {
  for (int i = 0; i < 200; ++i) {
    Doc("doc:" + std::to_string(i), static_cast<float>(i), 0, i % 2 ? "odd" : "even", i, "w");
  }
  // A serving server's mode, with an inline slice of 5 keys so the backfill
  // is still pending when FT.CREATE returns.
  engine_.search().set_backfill_mode(search::BackfillMode::kBackground);
  engine_.search().set_inline_limits(std::chrono::seconds(10), 5);
  CreateIndex();
  auto info_value = [&](const std::string& key) {
    resp::RespValue info = Run({"FT.INFO", "idx"});
    for (size_t i = 0; i + 1 < info.elements.size(); i += 2) {
      if (info.elements[i].str == key) return info.elements[i + 1];
    }
    return resp::RespValue();
  };
  EXPECT_THAT(info_value("indexing"), IsInt(1));
  const double percent = std::stod(info_value("percent_indexed").str);
  EXPECT_GE(percent, 0.0);
  EXPECT_LT(percent, 1.0);
  const int64_t partial = NumDocs();
  EXPECT_GT(partial, 0);
  EXPECT_LT(partial, 200);
  // FT.SEARCH answers over what is indexed so far.
  resp::RespValue all = Run({"FT.SEARCH", "idx", "*", "NOCONTENT", "LIMIT", "0", "0"});
  EXPECT_THAT(all.elements[0], IsInt(partial));
  // Writes during the backfill are indexed at once.
  Doc("doc:new", 1, 1, "odd", 1, "w");
  EXPECT_EQ(NumDocs(), partial + 1);
  for (int i = 0; i < 10000 && engine_.search().backfilling(); ++i) engine_.Cron();
  EXPECT_THAT(info_value("indexing"), IsInt(0));
  EXPECT_EQ(info_value("percent_indexed").str, "1");
  EXPECT_EQ(NumDocs(), 201);
  resp::RespValue odd = Run({"FT.SEARCH", "idx", "@tag:{odd}", "NOCONTENT", "LIMIT", "0", "0"});
  EXPECT_THAT(odd.elements[0], IsInt(101));

  // FT.DROPINDEX and FLUSHALL in the middle of a backfill.
  EXPECT_THAT(Run({"FT.DROPINDEX", "idx"}), IsOk());
  CreateIndex();
  EXPECT_THAT(info_value("indexing"), IsInt(1));
  EXPECT_THAT(Run({"FT.DROPINDEX", "idx"}), IsOk());
  EXPECT_FALSE(engine_.search().backfilling());
  CreateIndex();
  EXPECT_THAT(Run({"FLUSHALL"}), IsOk());
  EXPECT_FALSE(engine_.search().backfilling());
  EXPECT_THAT(info_value("indexing"), IsInt(0));
  EXPECT_EQ(NumDocs(), 0);
}

TEST_F(FtCommandsTest, InfoLayout) {
  CreateIndex();
  Doc("doc:1", 0, 0, "a", 1, "x");
  resp::RespValue info = Run({"FT.INFO", "idx"});
  ASSERT_EQ(info.type, resp::RespType::kArray);
  ASSERT_GE(info.elements.size(), 48u);
  ASSERT_EQ(info.elements.size() % 2, 0u);
  EXPECT_EQ(info.elements[0].str, "index_name");
  EXPECT_EQ(info.elements[1].str, "idx");
  EXPECT_EQ(info.elements[2].str, "index_options");
  EXPECT_EQ(info.elements[4].str, "index_definition");
  EXPECT_THAT(info.elements[5].elements[0], ::ragkv::testing::IsBulk("key_type"));
  EXPECT_EQ(info.elements[6].str, "attributes");
  const auto& attrs = info.elements[7].elements;
  ASSERT_EQ(attrs.size(), 4u);
  EXPECT_THAT(attrs[0].elements[0], ::ragkv::testing::IsBulk("identifier"));
  EXPECT_EQ(info.elements[8].str, "num_docs");
  EXPECT_THAT(info.elements[9], IsInt(1));
  // Every value is non-null (node-redis v4 indexes [45] and [47]).
  for (const auto& e : info.elements) EXPECT_FALSE(e.is_null());
  session_.resp = 3;
  resp::RespValue map = Run({"FT.INFO", "idx"});
  ASSERT_EQ(map.type, resp::RespType::kMap);
  EXPECT_EQ(map.elements[8].str, "num_docs");
}

TEST_F(FtCommandsTest, ManagementCommands) {
  CreateIndex();
  EXPECT_THAT(Run({"FT.CREATE", "idx", "SCHEMA", "a", "TEXT"}), IsError("Index already exists"));
  EXPECT_THAT(Run({"FT._LIST"}), IsStrings(std::vector<std::string>{"idx"}));
  Doc("doc:1", 0, 0, "Red,blue", 1, "x");
  Doc("doc:2", 0, 0, "green", 1, "x");
  EXPECT_THAT(Run({"FT.TAGVALS", "idx", "tag"}),
              IsStrings(std::vector<std::string>{"blue", "green", "red"}));
  EXPECT_THAT(Run({"FT.ALTER", "idx", "SCHEMA", "ADD", "extra", "NUMERIC"}), IsOk());
  Run({"HSET", "doc:1", "extra", "42"});
  resp::RespValue r = Run({"FT.SEARCH", "idx", "@extra:[40 50]", "NOCONTENT"});
  EXPECT_EQ(Keys(r, 1), (std::vector<std::string>{"doc:1"}));
  const std::string plan = Run({"FT.EXPLAIN", "idx", "@tag:{a} foo"}).str;
  EXPECT_NE(plan.find("INTERSECT"), std::string::npos) << plan;
  EXPECT_NE(plan.find("foo"), std::string::npos) << plan;
  // redis-py's empty third argument is ignored; documents stay.
  EXPECT_THAT(Run({"FT.DROPINDEX", "idx", ""}), IsOk());
  EXPECT_THAT(Run({"EXISTS", "doc:1"}), IsInt(1));
  EXPECT_THAT(Run({"FT.DROPINDEX", "idx"}), IsError("Unknown Index name"));
  CreateIndex();
  EXPECT_THAT(Run({"FT.DROPINDEX", "idx", "DD"}), IsOk());
  EXPECT_THAT(Run({"EXISTS", "doc:1", "doc:2"}), IsInt(0));
  CreateIndex();
  Doc("doc:1", 0, 0, "a", 1, "x");
  EXPECT_THAT(Run({"FT.DROP", "idx", "KEEPDOCS"}), IsOk());
  EXPECT_THAT(Run({"EXISTS", "doc:1"}), IsInt(1));
  CreateIndex();
  EXPECT_THAT(Run({"FT.DROP", "idx"}), IsOk());
  EXPECT_THAT(Run({"EXISTS", "doc:1"}), IsInt(0));
  EXPECT_THAT(Run({"FT._LIST"}), IsStrings(std::vector<std::string>{}));
}

TEST_F(FtCommandsTest, Aggregate) {
  CreateIndex("FLAT");
  Doc("doc:1", 0, 0, "red", 10, "a");
  Doc("doc:2", 1, 1, "blue", 20, "b");
  Doc("doc:3", 2, 2, "red", 30, "c");
  Doc("doc:4", 3, 3, "red", 5, "d");
  resp::RespValue r = Run({"FT.AGGREGATE", "idx", "*", "GROUPBY", "1", "@tag", "REDUCE", "COUNT",
                           "0", "AS", "n", "REDUCE", "SUM", "1", "@n", "AS", "total", "REDUCE",
                           "AVG", "1", "@n", "AS", "avg", "REDUCE", "MIN", "1", "@n", "AS", "lo",
                           "REDUCE", "MAX", "1", "@n", "AS", "hi", "SORTBY", "2", "@n", "DESC"});
  ASSERT_EQ(r.type, resp::RespType::kArray) << r.DebugString();
  ASSERT_EQ(r.elements.size(), 3u) << r.DebugString();
  EXPECT_THAT(r.elements[1], IsStrings(std::vector<std::string>{
                                 "tag", "red", "n", "3", "total", "45", "avg", "15", "lo", "5",
                                 "hi", "30"}));
  EXPECT_THAT(r.elements[2], IsStrings(std::vector<std::string>{
                                 "tag", "blue", "n", "1", "total", "20", "avg", "20", "lo", "20",
                                 "hi", "20"}));
  // LOAD + KNN + SORTBY + LIMIT.
  resp::RespValue knn = Run({"FT.AGGREGATE", "idx", "*=>[KNN 3 @v $B AS d]", "PARAMS", "2", "B",
                             Vec({3, 3}), "LOAD", "2", "@d", "@tag", "SORTBY", "2", "@d", "ASC",
                             "LIMIT", "0", "2", "DIALECT", "2"});
  ASSERT_EQ(knn.elements.size(), 3u) << knn.DebugString();
  EXPECT_THAT(knn.elements[1], IsStrings(std::vector<std::string>{"d", "0", "tag", "red"}));
  EXPECT_THAT(knn.elements[2], IsStrings(std::vector<std::string>{"d", "2", "tag", "red"}));
  EXPECT_THAT(Run({"FT.AGGREGATE", "nope", "*"}), IsError("nope: no such index"));
}

TEST_F(FtCommandsTest, ConfigAndModuleList) {
  resp::RespValue all = Run({"FT.CONFIG", "GET", "*"});
  ASSERT_GE(all.elements.size(), 3u);
  EXPECT_THAT(Run({"FT.CONFIG", "SET", "MAXSEARCHRESULTS", "100"}), IsOk());
  resp::RespValue one = Run({"FT.CONFIG", "GET", "MAXSEARCHRESULTS"});
  ASSERT_EQ(one.elements.size(), 1u);
  EXPECT_THAT(one.elements[0], IsStrings(std::vector<std::string>{"MAXSEARCHRESULTS", "100"}));
  EXPECT_THAT(Run({"FT.CONFIG", "SET", "NOPE", "1"}), IsError("Invalid option"));
  resp::RespValue mods = Run({"MODULE", "LIST"});
  ASSERT_EQ(mods.elements.size(), 1u);
  EXPECT_EQ(mods.elements[0].elements[1].str, "search");
  EXPECT_GE(mods.elements[0].elements[3].integer, 20600);
}

// TIMEOUT and ON_TIMEOUT plumbing; whether a deadline stops a query is
// tested deterministically in search_index_test (a deadline already past).
TEST_F(FtCommandsTest, TimeoutConfig) {
  CreateIndex();
  for (int i = 0; i < 20; ++i) Doc("doc:" + std::to_string(i), 0, 0, "a", i, "w");
  EXPECT_THAT(Run({"FT.CONFIG", "GET", "ON_TIMEOUT"}).elements[0],
              IsStrings(std::vector<std::string>{"ON_TIMEOUT", "return"}));
  EXPECT_THAT(Run({"FT.CONFIG", "SET", "ON_TIMEOUT", "fail"}), IsOk());
  EXPECT_THAT(Run({"FT.CONFIG", "GET", "ON_TIMEOUT"}).elements[0],
              IsStrings(std::vector<std::string>{"ON_TIMEOUT", "fail"}));
  EXPECT_THAT(Run({"FT.CONFIG", "SET", "ON_TIMEOUT", "maybe"}),
              IsError("Invalid value for `ON_TIMEOUT`"));
  EXPECT_THAT(Run({"FT.CONFIG", "SET", "TIMEOUT", "0"}), IsOk());  // no limit
  EXPECT_THAT(Run({"FT.CONFIG", "SET", "MAXSEARCHRESULTS", "0"}),
              IsError("Invalid value for `MAXSEARCHRESULTS`"));
  // TIMEOUT 0 on the query and in the config: complete answers, no warning.
  resp::RespValue r = Run({"FT.SEARCH", "idx", "w", "NOCONTENT", "TIMEOUT", "0"});
  EXPECT_THAT(r.elements[0], IsInt(20));
  EXPECT_THAT(Run({"FT.SEARCH", "idx", "*", "TIMEOUT", "10000", "LIMIT", "0", "0"}).elements[0],
              IsInt(20));
  session_.resp = 3;
  resp::RespValue map = Run({"FT.SEARCH", "idx", "*", "TIMEOUT", "10000"});
  ASSERT_EQ(map.type, resp::RespType::kMap);
  EXPECT_EQ(map.elements[8].str, "warning");
  EXPECT_TRUE(map.elements[9].elements.empty());
  resp::RespValue agg =
      Run({"FT.AGGREGATE", "idx", "*", "TIMEOUT", "0", "GROUPBY", "1", "@tag", "REDUCE", "COUNT",
           "0", "AS", "c"});
  ASSERT_EQ(agg.type, resp::RespType::kMap);
  EXPECT_TRUE(agg.elements[9].elements.empty());
}

TEST_F(FtCommandsTest, InfoModulesMatchesModuleList) {
  resp::RespValue mods = Run({"MODULE", "LIST"});
  ASSERT_EQ(mods.elements.size(), 1u);
  const std::string line = "module:name=" + mods.elements[0].elements[1].str +
                           ",ver=" + std::to_string(mods.elements[0].elements[3].integer) +
                           ",api=1,filters=0,usedby=[],using=[],options=[]\r\n";
  EXPECT_NE(Run({"INFO"}).str.find("# Modules\r\n" + line), std::string::npos);
  const std::string modules = Run({"INFO", "modules"}).str;
  EXPECT_EQ(modules, "# Modules\r\n" + line);
  // The module's own sections: by name or with "everything", never in "all".
  CreateIndex();
  Doc("doc:1", 0, 0, "a", 1, "x");
  const std::string search = Run({"INFO", "search"}).str;
  EXPECT_NE(search.find("# search_version\r\nsearch_version:2.10.5\r\n"), std::string::npos);
  EXPECT_NE(search.find("search_number_of_indexes:1\r\n"), std::string::npos);
  EXPECT_NE(search.find("search_total_num_docs:1\r\n"), std::string::npos);
  EXPECT_EQ(search.find("# Server"), std::string::npos);
  EXPECT_NE(Run({"INFO", "everything"}).str.find("search_number_of_indexes:1"),
            std::string::npos);
  EXPECT_EQ(Run({"INFO", "all"}).str.find("search_number_of_indexes"), std::string::npos);
}

TEST_F(FtCommandsTest, GeoFields) {
  ASSERT_THAT(Run({"FT.CREATE", "places", "PREFIX", "1", "p:", "SCHEMA", "loc", "GEO", "name",
                   "TAG"}),
              IsOk());
  Run({"HSET", "p:paris", "loc", "2.3522,48.8566", "name", "paris"});
  Run({"HSET", "p:versailles", "loc", "2.1301,48.8049", "name", "versailles"});
  Run({"HSET", "p:london", "loc", "-0.1276,51.5072", "name", "london"});
  Run({"HSET", "p:bad", "loc", "somewhere", "name", "bad"});
  resp::RespValue near =
      Run({"FT.SEARCH", "places", "@loc:[2.35 48.85 30 km]", "NOCONTENT", "SORTBY", "name"});
  ASSERT_EQ(near.elements.size(), 3u);
  EXPECT_THAT(near.elements[0], IsInt(2));
  EXPECT_EQ(near.elements[1].str, "p:paris");
  EXPECT_EQ(near.elements[2].str, "p:versailles");
  resp::RespValue far = Run({"FT.SEARCH", "places", "@loc:[2.35 48.85 400 mi]", "NOCONTENT"});
  EXPECT_THAT(far.elements[0], IsInt(3));
  resp::RespValue legacy = Run({"FT.SEARCH", "places", "*", "GEOFILTER", "loc", "-0.12", "51.5",
                                "5", "km", "NOCONTENT"});
  ASSERT_EQ(legacy.elements.size(), 2u);
  EXPECT_EQ(legacy.elements[1].str, "p:london");
  EXPECT_THAT(Run({"FT.SEARCH", "places", "@loc:[0 95 1 km]"}),
              IsError("Invalid GeoFilter lat/lon"));
  EXPECT_THAT(Run({"FT.SEARCH", "places", "@name:[0 0 1 km]"}),
              IsError("Syntax error: field `name` is not a GEO field"));
  resp::RespValue info = Run({"FT.INFO", "places"});
  for (size_t i = 0; i + 1 < info.elements.size(); i += 2) {
    if (info.elements[i].str == "hash_indexing_failures") {
      EXPECT_THAT(info.elements[i + 1], IsInt(1));
    }
  }
}

TEST_F(FtCommandsTest, Profile) {
  CreateIndex();
  for (int i = 0; i < 10; ++i) {
    Doc("doc:" + std::to_string(i), static_cast<float>(i), 0, i % 2 ? "odd" : "even", i, "w");
  }
  resp::RespValue p = Run({"FT.PROFILE", "idx", "SEARCH", "QUERY", "@tag:{odd} @n:[0 5]",
                           "NOCONTENT"});
  ASSERT_EQ(p.elements.size(), 2u) << p.DebugString();
  // The search reply, exactly as FT.SEARCH gives it.
  EXPECT_EQ(p.elements[0].DebugString(),
            Run({"FT.SEARCH", "idx", "@tag:{odd} @n:[0 5]", "NOCONTENT"}).DebugString());
  const auto& profile = p.elements[1].elements;
  ASSERT_EQ(profile.size(), 5u);
  EXPECT_EQ(profile[0].elements[0].str, "Total profile time");
  EXPECT_EQ(profile[3].elements[0].str, "Iterators profile");
  const auto& root = profile[3].elements[1].elements;
  ASSERT_GE(root.size(), 9u);
  EXPECT_EQ(root[1].str, "INTERSECT");
  EXPECT_THAT(root[7], IsInt(3));  // docs 1, 3, 5
  EXPECT_EQ(root[8].str, "Child iterators");
  EXPECT_EQ(root[9].elements[1].str, "TAG");
  EXPECT_THAT(root[9].elements[7], IsInt(5));
  EXPECT_EQ(root[10].elements[1].str, "NUMERIC");
  EXPECT_THAT(root[10].elements[7], IsInt(6));
  EXPECT_EQ(profile[4].elements[0].str, "Result processors profile");
  // KNN wraps the filter in a VECTOR node; AGGREGATE works too.
  resp::RespValue knn = Run({"FT.PROFILE", "idx", "SEARCH", "LIMITED", "QUERY",
                             "@tag:{even}=>[KNN 2 @v $B AS d]", "PARAMS", "2", "B", Vec({0, 0}),
                             "SORTBY", "d", "NOCONTENT"});
  ASSERT_EQ(knn.elements.size(), 2u) << knn.DebugString();
  EXPECT_THAT(knn.elements[0].elements[0], IsInt(2));
  EXPECT_EQ(knn.elements[1].elements[3].elements[1].elements[1].str, "VECTOR");
  resp::RespValue agg = Run({"FT.PROFILE", "idx", "AGGREGATE", "QUERY", "*", "GROUPBY", "1",
                             "@tag", "REDUCE", "COUNT", "0", "AS", "c"});
  ASSERT_EQ(agg.elements.size(), 2u) << agg.DebugString();
  EXPECT_THAT(agg.elements[0].elements[0], IsInt(2));
  EXPECT_THAT(Run({"FT.PROFILE", "idx", "FIND", "QUERY", "*"}),
              IsError("No `SEARCH` or `AGGREGATE` provided"));
  EXPECT_THAT(Run({"FT.PROFILE", "idx", "SEARCH", "*", "x"}),
              IsError("The QUERY keyword is expected"));
  EXPECT_THAT(Run({"FT.PROFILE", "nope", "SEARCH", "QUERY", "*"}), IsError("nope: no such index"));
  session_.resp = 3;
  resp::RespValue map = Run({"FT.PROFILE", "idx", "SEARCH", "QUERY", "*"});
  ASSERT_EQ(map.type, resp::RespType::kMap);
  EXPECT_EQ(map.elements[0].str, "Results");
  EXPECT_EQ(map.elements[2].str, "Profile");
}

TEST_F(FtCommandsTest, ErrorTexts) {
  EXPECT_THAT(Run({"FT.SEARCH", "nope", "*"}), IsError("nope: no such index"));
  EXPECT_THAT(Run({"FT.INFO", "nope"}), IsError("Unknown index name"));
  EXPECT_THAT(Run({"FT.DROPINDEX", "nope"}), IsError("Unknown Index name"));
  CreateIndex();
  EXPECT_THAT(Run({"FT.SEARCH", "idx", "*=>[KNN 2 @v $B]", "PARAMS", "2", "B", "abc"}),
              IsError("Error parsing vector similarity query: query vector blob size (3) does "
                      "not match index's expected size (8)."));
  EXPECT_THAT(Run({"FT.SEARCH", "idx", "*=>[KNN 99999999999 @v $B]", "PARAMS", "2", "B",
                   Vec({1, 1})}),
              ErrorStartsWith("Error parsing vector similarity query"));
  EXPECT_THAT(Run({"FT.SEARCH", "idx", "*", "LIMIT", "0", "99999999999"}),
              IsError("LIMIT exceeds maximum of 1000000"));
  EXPECT_THAT(Run({"FT.SEARCH", "idx", "(foo"}), ErrorStartsWith("Syntax error at offset"));
  EXPECT_THAT(Run({"FT.SEARCH", "idx", "@missing:{x}"}), ErrorStartsWith("Unknown field"));
  EXPECT_THAT(Run({"FT.SEARCH", "idx", "*", "SORTBY", "zzz"}),
              IsError("Property `zzz` not loaded nor in schema"));
  EXPECT_THAT(Run({"FT.SEARCH", "idx", "*", "DIALECT", "9"}),
              IsError("DIALECT requires a non negative integer >=1 and <= 4"));
  EXPECT_THAT(Run({"FT.SEARCH", "idx", "*=>[KNN 2 @v $B]", "PARAMS", "3", "B", "x"}),
              ErrorStartsWith("Parameters must be specified"));
  EXPECT_THAT(Run({"FT.CREATE", "i2", "SCHEMA", "v", "VECTOR", "HNSW", "6", "TYPE", "FLOAT32",
                   "DIM", "2", "DISTANCE_METRIC", "NOPE"}),
              ErrorStartsWith("Bad arguments for vector similarity HNSW index metric"));
}

}  // namespace
}  // namespace ragkv::server

namespace ragkv::server {
namespace {

// The deferral contract FT.SEARCH keeps with the network layer: with a
// deferrer installed the handler writes nothing itself, hands over work whose
// finisher writes exactly the synchronous reply, and names the query's shape
// with the KNN vector left out (the deferrer learns costs per shape).
class FtDeferTest : public FtCommandsTest {
 protected:
  struct Handed {
    Engine::DeferredWork work;
    std::string cost_key;
  };
  // Executes argv with a capturing deferrer; returns the bytes written now.
  std::string ExecuteDeferred(const std::vector<std::string>& argv, std::vector<Handed>* handed) {
    engine_.set_deferrer([handed](Session&, resp::ReplyWriter&, Engine::DeferredWork work,
                                  std::string_view cost_key) {
      handed->push_back({std::move(work), std::string(cost_key)});
    });
    std::string out;
    resp::ReplyWriter writer(&out, session_.resp);
    engine_.Execute(session_, argv, writer);
    engine_.set_deferrer(nullptr);
    return out;
  }
  static std::vector<std::string> KnnArgv(int k, std::vector<float> q, const char* ret = "d") {
    return {"FT.SEARCH", "idx", "*=>[KNN " + std::to_string(k) + " @v $B AS d]", "SORTBY", "d",
            "RETURN", "1", ret, "PARAMS", "2", "B", Vec(q), "DIALECT", "2"};
  }
};

TEST_F(FtDeferTest, FinisherWritesTheSynchronousReplyAndShapesIgnoreTheVector) {
  CreateIndex();
  Doc("doc:a", 0, 0, "x", 1, "hello world");
  Doc("doc:b", 3, 4, "y", 2, "hello there");
  Doc("doc:c", 1, 0, "x", 3, "goodbye");
  std::vector<Handed> handed;
  for (const auto& argv : {KnnArgv(2, {0, 0}), KnnArgv(2, {3, 4}), KnnArgv(3, {0, 0}),
                           KnnArgv(2, {0, 0}, "tag")}) {
    EXPECT_EQ(ExecuteDeferred(argv, &handed), "");
    ASSERT_FALSE(handed.empty());
    std::string deferred;
    resp::ReplyWriter writer(&deferred, session_.resp);
    handed.back().work()(writer);
    std::string sync;
    resp::ReplyWriter sync_writer(&sync, session_.resp);
    engine_.Execute(session_, argv, sync_writer);  // no deferrer: synchronous
    EXPECT_EQ(deferred, sync);
  }
  ASSERT_EQ(handed.size(), 4u);
  EXPECT_EQ(handed[0].cost_key, handed[1].cost_key);  // only the vector differs
  EXPECT_NE(handed[0].cost_key, handed[2].cost_key);  // k differs
  EXPECT_NE(handed[0].cost_key, handed[3].cost_key);  // RETURN differs
  EXPECT_EQ(handed[0].cost_key.find(Vec({0, 0})), std::string::npos);
  // Errors found while parsing are replied at once, never deferred.
  EXPECT_NE(ExecuteDeferred({"FT.SEARCH", "idx", "@nosuch:{"}, &handed), "");
  EXPECT_EQ(handed.size(), 4u);
}

TEST_F(FtDeferTest, InsideMultiTheSearchRunsSynchronously) {
  CreateIndex();
  Doc("doc:a", 0, 0, "x", 1, "hello world");
  std::vector<Handed> handed;
  EXPECT_THAT(Run({"MULTI"}), IsOk());
  ExecuteDeferred(KnnArgv(1, {0, 0}), &handed);  // QUEUED
  const std::string exec = ExecuteDeferred({"EXEC"}, &handed);
  EXPECT_TRUE(handed.empty());
  EXPECT_NE(exec.find("doc:a"), std::string::npos) << exec;
}

}  // namespace
}  // namespace ragkv::server
