#include "persistence/policy.h"

#include <gtest/gtest.h>

namespace ragkv::persistence {
namespace {

TEST(SavePointsTest, ParsesRedisDefaultAndEmpty) {
  auto p = ParseSavePoints("3600 1 300 100 60 10000");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<SavePoint>{{3600, 1}, {300, 100}, {60, 10000}}));
  EXPECT_EQ(FormatSavePoints(*p), "3600 1 300 100 60 10000");
  EXPECT_TRUE(ParseSavePoints("")->empty());
  EXPECT_TRUE(ParseSavePoints("\"\"")->empty());
}

TEST(SavePointsTest, RejectsBadValues) {
  for (const char* bad : {"3600", "3600 x", "-1 5", "0 1", "1 2 3", "1.5 2"}) {
    EXPECT_FALSE(ParseSavePoints(bad).ok()) << bad;
  }
}

TEST(SavePointsTest, ShouldSaveMatchesTheDefinitionExhaustively) {
  const std::vector<SavePoint> points = {{3600, 1}, {300, 100}, {60, 10000}};
  // Reference: some point with dirty >= changes and elapsed >= seconds.
  for (int64_t elapsed : {0, 59, 60, 299, 300, 3599, 3600, 100000}) {
    for (uint64_t dirty : {0u, 1u, 99u, 100u, 9999u, 10000u}) {
      bool expected = false;
      for (const auto& p : points) {
        expected |= dirty >= static_cast<uint64_t>(p.changes) && elapsed >= p.seconds;
      }
      SaveState s{.now_s = 1000000 + elapsed,
                  .last_save_s = 1000000,
                  .last_attempt_s = 1000000,
                  .dirty = dirty,
                  .last_save_ok = true};
      EXPECT_EQ(ShouldSave(points, s), expected) << elapsed << " " << dirty;
    }
  }
  EXPECT_FALSE(ShouldSave({}, SaveState{.now_s = 1 << 30, .dirty = 1u << 30}));
}

TEST(SavePointsTest, FailedSaveWaitsBeforeRetrying) {
  const std::vector<SavePoint> points = {{1, 1}};
  SaveState s{
      .now_s = 1000, .last_save_s = 0, .last_attempt_s = 998, .dirty = 5, .last_save_ok = false};
  EXPECT_FALSE(ShouldSave(points, s));
  s.now_s = 998 + kSaveRetryDelaySeconds;
  EXPECT_TRUE(ShouldSave(points, s));
}

TEST(AutoRewriteTest, FollowsPercentageAndMinSize) {
  AutoRewritePolicy p{.percentage = 100, .min_size = 64 << 20};
  EXPECT_FALSE(ShouldRewrite(p, 10 << 20, 1 << 20));   // below min size
  EXPECT_TRUE(ShouldRewrite(p, 128 << 20, 64 << 20));  // doubled
  EXPECT_FALSE(ShouldRewrite(p, 127 << 20, 64 << 20));
  EXPECT_TRUE(ShouldRewrite(p, 64 << 20, 0));           // no base yet
  EXPECT_FALSE(ShouldRewrite(p, 64 << 20, 100 << 20));  // shrank
  EXPECT_FALSE(ShouldRewrite({.percentage = 0, .min_size = 0}, UINT64_MAX, 1));
  EXPECT_TRUE(ShouldRewrite({.percentage = 50, .min_size = 0}, 150, 100));
  EXPECT_FALSE(ShouldRewrite({.percentage = 50, .min_size = 0}, 149, 100));
  EXPECT_TRUE(ShouldRewrite({.percentage = 100, .min_size = 0}, UINT64_MAX, UINT64_MAX / 3));
}

TEST(InfoPersistenceTest, HasRedisFieldsInOrder) {
  PersistenceInfo info;
  info.aof_enabled = true;
  info.aof_last_write_ok = false;
  info.aof_current_size = 1234;
  const std::string text = FormatInfoPersistence(info);
  EXPECT_EQ(text.rfind("# Persistence\r\nloading:0\r\n", 0), 0u);
  for (const char* field :
       {"rdb_last_bgsave_status:ok\r\n", "aof_enabled:1\r\n", "aof_last_write_status:err\r\n",
        "aof_current_size:1234\r\n", "rdb_changes_since_last_save:0\r\n"}) {
    EXPECT_NE(text.find(field), std::string::npos) << field;
  }
  EXPECT_LT(text.find("rdb_saves"), text.find("aof_enabled"));
  info.aof_enabled = false;
  EXPECT_EQ(FormatInfoPersistence(info).find("aof_current_size"), std::string::npos);
}

}  // namespace
}  // namespace ragkv::persistence
