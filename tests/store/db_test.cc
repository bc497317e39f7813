#include "store/db.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

namespace ragkv::store {
namespace {

std::string Key(const char* prefix, uint64_t i) {
  return std::string(prefix).append(std::to_string(i));
}

// Reference model: std::map of key -> (value, expire), with expiry applied by
// comparing against the same clock.
struct ModelEntry {
  std::string value;
  int64_t expire_ms = -1;
};

class DbModelTest : public ::testing::Test {
 protected:
  Keyspace ks_{2};
  std::map<std::string, ModelEntry> model_;

  bool ModelLive(const std::string& k) {
    auto it = model_.find(k);
    if (it == model_.end()) return false;
    if (it->second.expire_ms >= 0 && it->second.expire_ms <= ks_.now_ms()) {
      model_.erase(it);
      return false;
    }
    return true;
  }

  // Invariant: the db holds exactly the model's live keys, with equal values
  // and TTLs, and volatile_size() counts the keys with a TTL.
  void CheckEquivalent() {
    Db& db = ks_.db(0);
    for (auto it = model_.begin(); it != model_.end();) {
      auto& [k, e] = *it;
      ++it;
      bool live = e.expire_ms < 0 || e.expire_ms > ks_.now_ms();
      Object* o = db.Find(k);
      ASSERT_EQ(o != nullptr, live) << k;
      if (!live) {
        model_.erase(k);
        continue;
      }
      ASSERT_EQ(o->str(), e.value);
      auto ttl = db.GetExpire(k);
      ASSERT_EQ(ttl.value_or(-1), e.expire_ms);
    }
    size_t volatile_count = 0;
    for (auto& [k, e] : model_) volatile_count += e.expire_ms >= 0;
    // Keys the model dropped as expired may still sit in the db until touched.
    size_t live = 0, live_volatile = 0;
    for (auto& [k, e] : db.map()) {
      if (e.expire_ms >= 0 && e.expire_ms <= ks_.now_ms()) continue;
      ASSERT_TRUE(model_.count(k)) << "extra key " << k;
      ++live;
      live_volatile += e.expire_ms >= 0;
    }
    ASSERT_EQ(live, model_.size());
    ASSERT_EQ(live_volatile, volatile_count);
    ASSERT_LE(db.volatile_size(), db.size());
  }
};

TEST_F(DbModelTest, RandomOperationsMatchModel) {
  std::mt19937_64 rng(1234);
  Db& db = ks_.db(0);
  ks_.set_now_ms(1000000);
  for (int step = 0; step < 50000; ++step) {
    std::string key = Key("k", rng() % 200);
    switch (rng() % 8) {
      case 0:
      case 1: {
        std::string v = std::to_string(rng());
        bool keep = rng() % 4 == 0;
        db.Set(key, Object(v), keep);
        bool had = ModelLive(key);
        int64_t exp = had && keep ? model_[key].expire_ms : -1;
        model_[key] = {v, exp};
        break;
      }
      case 2:
        ASSERT_EQ(db.Delete(key), ModelLive(key) && model_.erase(key) == 1);
        break;
      case 3:
        if (ModelLive(key)) {
          int64_t when = ks_.now_ms() + static_cast<int64_t>(rng() % 50);
          db.SetExpire(key, when);
          model_[key].expire_ms = when;
        }
        break;
      case 4: {
        bool had_ttl = ModelLive(key) && model_[key].expire_ms >= 0;
        ASSERT_EQ(db.Persist(key), had_ttl);
        if (had_ttl) model_[key].expire_ms = -1;
        break;
      }
      case 5:
        ks_.set_now_ms(ks_.now_ms() + static_cast<int64_t>(rng() % 5));
        break;
      case 6:
        db.ActiveExpireCycle(20, 100, rng);
        break;
      case 7: {
        std::string to = Key("k", rng() % 200);
        if (ModelLive(key) && key != to) {
          db.Rename(key, to);
          model_[to] = model_[key];
          model_.erase(key);
        }
        break;
      }
    }
    if (step % 1000 == 0) CheckEquivalent();
  }
  CheckEquivalent();
}

TEST(DbTest, ActiveExpiryRemovesExpiredKeysWithoutAccess) {
  Keyspace ks(1);
  Db& db = ks.db(0);
  std::mt19937_64 rng(5);
  std::vector<std::string> expired;
  ks.set_on_expired([&](int, std::string_view k) { expired.emplace_back(k); });
  for (int i = 0; i < 1000; ++i) {
    db.Set(Key("v", i), Object(std::string("x")));
    db.SetExpire(Key("v", i), ks.now_ms() + 10);
  }
  db.Set("persistent", Object(std::string("y")));
  ks.set_now_ms(ks.now_ms() + 11);
  size_t total = 0;
  for (int cycle = 0; cycle < 100 && db.volatile_size() > 0; ++cycle) {
    total += db.ActiveExpireCycle(20, 400, rng);
  }
  EXPECT_EQ(total, 1000u);
  EXPECT_EQ(expired.size(), 1000u);
  EXPECT_EQ(db.size(), 1u);
}

TEST(DbTest, ScanVisitsEveryKeyExactlyOnceWithoutGrowth) {
  Keyspace ks(1);
  Db& db = ks.db(0);
  for (int i = 0; i < 5000; ++i) db.Set(Key("key:", i), Object(std::string("v")));
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  int calls = 0;
  do {
    cursor = db.Scan(cursor, 10, [&](const std::string& k, Db::Entry&) { seen.insert(k); });
    ++calls;
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), 5000u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 5000u);
  EXPECT_GT(calls, 10);
}

TEST(DbTest, RandomKeyReturnsOnlyLiveKeys) {
  Keyspace ks(1);
  Db& db = ks.db(0);
  std::mt19937_64 rng(9);
  EXPECT_FALSE(db.RandomKey(rng).has_value());
  db.Set("a", Object(std::string("1")));
  db.Set("b", Object(std::string("1")));
  db.SetExpire("b", ks.now_ms());
  std::set<std::string> got;
  for (int i = 0; i < 50; ++i) got.insert(db.RandomKey(rng).value());
  EXPECT_EQ(got, std::set<std::string>{"a"});
}

TEST(DbTest, SwapAndCloneAreDeep) {
  Keyspace ks(2);
  Object h = Object::NewHash();
  h.hash()["f"] = "v";
  ks.db(0).Set("h", std::move(h));
  Object copy = ks.db(0).Find("h")->Clone();
  copy.hash()["f"] = "changed";
  EXPECT_EQ(ks.db(0).Find("h")->hash().at("f"), "v");
  ks.Swap(0, 1);
  EXPECT_EQ(ks.db(0).Find("h"), nullptr);
  ASSERT_NE(ks.db(1).Find("h"), nullptr);
  EXPECT_EQ(ks.TotalKeys(), 1u);
}

}  // namespace
}  // namespace ragkv::store

namespace ragkv::store {
namespace {

// Keys present for the whole scan are returned even when the table grows
// (rehashes) between SCAN calls.
TEST(DbTest, ScanSurvivesGrowthWithoutMissingKeys) {
  Keyspace ks(1);
  Db& db = ks.db(0);
  std::set<std::string> original;
  for (int i = 0; i < 1000; ++i) {
    std::string k = std::string("orig:").append(std::to_string(i));
    db.Set(k, Object(std::string("v")));
    original.insert(k);
  }
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int calls = 0, added = 0;
  size_t buckets_before = db.map().bucket_count();
  do {
    cursor = db.Scan(cursor, 20, [&](const std::string& k, Db::Entry&) { seen.insert(k); });
    // Grow the table a lot during the first calls (SCAN, like Redis's, only
    // promises to terminate once the collection stops growing).
    for (int j = 0; calls < 40 && j < 200; ++j) {
      db.Set(std::string("new:").append(std::to_string(added++)), Object(std::string("v")));
    }
    ++calls;
  } while (cursor != 0 && calls < 100000);
  EXPECT_EQ(cursor, 0u);
  EXPECT_GT(db.map().bucket_count(), buckets_before);
  for (const std::string& k : original) EXPECT_TRUE(seen.count(k)) << k;
}

}  // namespace
}  // namespace ragkv::store
