// IndexManager's background backfill against a synchronous one: keys are
// written, rewritten and deleted between backfill slices (as clients do
// between event-loop iterations, reaching SyncKey through the write hook),
// and once the scan is done the index must answer every query exactly as an
// index built in one pass over the final keyspace.
#include "search/index_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "search/query.h"
#include "search/schema.h"

namespace ragkv::search {
namespace {

const char* kTags[] = {"red", "green", "blue"};
const char* kWords[] = {"apple", "banana", "cherry", "grape"};

IndexSchema Schema(const std::string& name) {
  std::vector<std::string> args = {name,  "PREFIX",  "1",    "d:",     "SCHEMA", "tag",
                                   "TAG", "num",     "NUMERIC", "body", "TEXT",   "v",
                                   "VECTOR", "FLAT", "6",    "TYPE",   "FLOAT32", "DIM",
                                   "2",   "DISTANCE_METRIC", "L2"};
  std::vector<std::string_view> views(args.begin(), args.end());
  auto def = ParseFtCreate(views);
  EXPECT_TRUE(def.ok()) << def.status().message();
  return std::move(*def);
}

std::vector<std::string> Match(const SearchIndex& index, const std::string& query) {
  std::vector<std::string> args = {index.name(), query, "NOCONTENT", "LIMIT", "0", "100000"};
  std::vector<std::string_view> views(args.begin(), args.end());
  auto req = ParseFtSearch(views);
  EXPECT_TRUE(req.ok()) << req.status().message();
  auto result = index.Search(*req, nullptr);
  EXPECT_TRUE(result.ok()) << result.status().message();
  std::vector<std::string> keys;
  for (const auto& hit : result->hits) keys.push_back(hit.key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

class BackfillTest : public ::testing::Test {
 protected:
  store::Db& db() { return keyspace_.db(0); }

  void PutRandom(const std::string& key) {
    store::Object obj = store::Object::NewHash();
    obj.hash().emplace("tag", kTags[rng_() % 3]);
    obj.hash().emplace("num", std::to_string(rng_() % 50));
    obj.hash().emplace("body", std::string("a ") + kWords[rng_() % 4]);
    const float v[2] = {static_cast<float>(rng_() % 100), static_cast<float>(rng_() % 100)};
    // One in 20 has a wrong-size blob: a failure, not indexed.
    const size_t bytes = rng_() % 20 == 0 ? 4 : sizeof(v);
    obj.hash().emplace("v", std::string(reinterpret_cast<const char*>(v), bytes));
    db().Set(key, std::move(obj));
  }

  std::string RandomKey() {
    const char* prefix = rng_() % 5 == 0 ? "other:" : "d:";
    return prefix + std::to_string(rng_() % 6000);
  }

  // What the write hook does for a write to `key`.
  void Write(IndexManager& mgr, const std::string& key) {
    if (rng_() % 4 == 0) {
      db().Delete(key);
    } else if (rng_() % 10 == 0) {
      db().Set(key, store::Object(std::string("a string")));
    } else {
      PutRandom(key);
    }
    mgr.SyncKey(0, db(), key, keyspace_.now_ms());
  }

  void ExpectSameAnswers(const SearchIndex& got, const SearchIndex& want) {
    EXPECT_EQ(got.size(), want.size());
    std::vector<std::string> got_keys = got.Keys(), want_keys = want.Keys();
    std::sort(got_keys.begin(), got_keys.end());
    std::sort(want_keys.begin(), want_keys.end());
    EXPECT_EQ(got_keys, want_keys);
    for (const char* q : {"*", "@tag:{red}", "@tag:{green | blue}", "@num:[10 (30]",
                                 "apple", "-banana @num:[-inf 5]", "@tag:{red} cherry"}) {
      EXPECT_EQ(Match(got, q), Match(want, q)) << q;
    }
    EXPECT_TRUE(got.CheckInvariants().ok());
  }

  store::Keyspace keyspace_{1};
  std::mt19937_64 rng_{42};
};

TEST_F(BackfillTest, WritesDuringBackgroundBackfillEndLikeASynchronousOne) {
  for (int i = 0; i < 3000; ++i) PutRandom(RandomKey());
  IndexManager mgr;
  mgr.set_backfill_mode(BackfillMode::kBackground);
  mgr.set_inline_limits(std::chrono::seconds(10), 7);
  ASSERT_TRUE(mgr.Create(Schema("idx"), 0, db()).ok());
  ASSERT_TRUE(mgr.backfilling());
  auto index = mgr.Find("idx");
  size_t steps = 0;
  double last_progress = 0;
  while (mgr.backfilling()) {
    auto progress = mgr.BackfillProgress("idx");
    ASSERT_TRUE(progress.has_value());
    EXPECT_GE(*progress, 0.0);
    EXPECT_LT(*progress, 1.0);
    last_progress = *progress;
    // Some rounds write enough new keys to rehash the table mid-scan.
    const int writes = steps % 50 == 25 ? 2000 : static_cast<int>(rng_() % 8);
    for (int w = 0; w < writes; ++w) Write(mgr, RandomKey() + (writes > 100 ? "x" : ""));
    BackfillBudget budget;
    budget.max_keys = 1 + rng_() % 40;
    mgr.BackfillStep(budget);
    if (++steps % 100 == 0) {
      ASSERT_TRUE(index->CheckInvariants().ok());
    }
    ASSERT_LT(steps, 100000u) << "backfill does not terminate";
  }
  EXPECT_GT(steps, 10u);
  EXPECT_GT(last_progress, 0.0);
  EXPECT_FALSE(mgr.BackfillProgress("idx").has_value());

  IndexManager reference;  // synchronous by default
  ASSERT_TRUE(reference.Create(Schema("idx"), 0, db()).ok());
  EXPECT_FALSE(reference.backfilling());
  ExpectSameAnswers(*index, *reference.Find("idx"));
}

// FT.ALTER SCHEMA ADD in the middle of a backfill restarts the scan, so the
// documents indexed before it get the new field too.
TEST_F(BackfillTest, AlterDuringBackfillRestartsTheScan) {
  for (int i = 0; i < 2000; ++i) PutRandom(RandomKey());
  std::vector<std::string> base = {"idx", "PREFIX", "1", "d:", "SCHEMA", "tag", "TAG"};
  std::vector<std::string_view> base_views(base.begin(), base.end());
  IndexManager mgr;
  mgr.set_backfill_mode(BackfillMode::kBackground);
  mgr.set_inline_limits(std::chrono::seconds(10), 5);
  ASSERT_TRUE(mgr.Create(*ParseFtCreate(base_views), 0, db()).ok());
  BackfillBudget some;
  some.max_keys = 700;
  mgr.BackfillStep(some);
  ASSERT_TRUE(mgr.backfilling());
  const double before = *mgr.BackfillProgress("idx");
  std::vector<std::string> alter = {"idx", "SCHEMA", "ADD", "num", "NUMERIC", "body", "TEXT"};
  std::vector<std::string_view> alter_views(alter.begin(), alter.end());
  auto fields = ParseFtAlter(alter_views, mgr.Find("idx")->schema());
  ASSERT_TRUE(fields.ok()) << fields.status().message();
  ASSERT_TRUE(mgr.AddFields("idx", std::move(*fields), db()).ok());
  EXPECT_LT(mgr.BackfillProgress("idx").value_or(1), before);  // only the inline slice
  for (int i = 0; i < 50; ++i) Write(mgr, RandomKey());
  while (mgr.backfilling()) mgr.BackfillStep(some);

  std::vector<std::string> full = {"idx",  "PREFIX", "1",    "d:",      "SCHEMA", "tag",
                                   "TAG",  "num",    "NUMERIC", "body", "TEXT"};
  std::vector<std::string_view> full_views(full.begin(), full.end());
  IndexManager reference;
  ASSERT_TRUE(reference.Create(*ParseFtCreate(full_views), 0, db()).ok());
  const SearchIndex& got = *mgr.Find("idx");
  const SearchIndex& want = *reference.Find("idx");
  EXPECT_EQ(got.size(), want.size());
  for (const char* q : {"@num:[10 (30]", "apple", "@tag:{red} -cherry", "*"}) {
    EXPECT_EQ(Match(got, q), Match(want, q)) << q;
  }
  EXPECT_TRUE(got.CheckInvariants().ok());
}

TEST_F(BackfillTest, SmallDbIsCompleteBeforeCreateReturns) {
  for (int i = 0; i < 100; ++i) PutRandom("d:" + std::to_string(i));
  IndexManager mgr;
  mgr.set_backfill_mode(BackfillMode::kBackground);
  ASSERT_TRUE(mgr.Create(Schema("idx"), 0, db()).ok());
  // The inline slice (1 ms) covers 100 small documents on any machine this
  // test runs on; if it did not, the loop below still completes it.
  while (mgr.backfilling()) mgr.BackfillStep(BackfillBudget{});
  IndexManager reference;
  ASSERT_TRUE(reference.Create(Schema("idx"), 0, db()).ok());
  ExpectSameAnswers(*mgr.Find("idx"), *reference.Find("idx"));
}

TEST_F(BackfillTest, DropFlushAndSwapDuringBackfill) {
  for (int i = 0; i < 500; ++i) PutRandom("d:" + std::to_string(i));
  IndexManager mgr;
  mgr.set_backfill_mode(BackfillMode::kBackground);
  mgr.set_inline_limits(std::chrono::seconds(10), 10);
  ASSERT_TRUE(mgr.Create(Schema("a"), 0, db()).ok());
  ASSERT_TRUE(mgr.Create(Schema("b"), 0, db()).ok());
  EXPECT_TRUE(mgr.BackfillProgress("a").has_value());
  // Dropping one index drops its job; the other continues.
  auto a = mgr.Find("a");
  EXPECT_TRUE(mgr.Drop("a"));
  EXPECT_FALSE(mgr.BackfillProgress("a").has_value());
  EXPECT_TRUE(mgr.BackfillProgress("b").has_value());
  BackfillBudget few;
  few.max_keys = 50;
  mgr.BackfillStep(few);
  EXPECT_LE(a->size(), 10u);  // the dropped index got no more work

  // FLUSHALL: nothing is left to backfill, and the index is empty.
  keyspace_.FlushAll();
  mgr.OnFlush(-1);
  EXPECT_FALSE(mgr.backfilling());
  EXPECT_EQ(mgr.Find("b")->size(), 0u);

  // SWAPDB restarts the scan over the db's new contents.
  store::Keyspace two(2);
  for (int i = 0; i < 300; ++i) {
    store::Object obj = store::Object::NewHash();
    obj.hash().emplace("tag", "red");
    two.db(1).Set("d:" + std::to_string(i), std::move(obj));
  }
  IndexManager swapped;
  swapped.set_backfill_mode(BackfillMode::kBackground);
  swapped.set_inline_limits(std::chrono::seconds(10), 10);
  ASSERT_TRUE(swapped.Create(Schema("s"), 0, two.db(0)).ok());
  EXPECT_FALSE(swapped.backfilling());  // db 0 is empty
  two.Swap(0, 1);
  swapped.OnSwap(0, two.db(0), 1, two.db(1));
  EXPECT_TRUE(swapped.backfilling());
  while (swapped.backfilling()) swapped.BackfillStep(few);
  EXPECT_EQ(swapped.Find("s")->size(), 300u);
}

}  // namespace
}  // namespace ragkv::search
