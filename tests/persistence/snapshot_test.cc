#include "persistence/snapshot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "persistence/fault_injecting_file_system.h"
#include "persistence/test_util.h"

namespace ragkv::persistence {
namespace {

using testing::CollectingVisitor;

bool SameEntry(const SnapshotEntry& a, const SnapshotEntry& b) {
  return a.db == b.db && a.key == b.key && a.expire_at_ms == b.expire_at_ms && a.kind == b.kind &&
         a.value == b.value && a.fields == b.fields && a.members == b.members;
}

std::string RandomBytes(std::mt19937_64& rng, size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng() % 256);
  return s;
}

std::vector<SnapshotEntry> RandomEntries(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<SnapshotEntry> out;
  int db = 0;
  for (int i = 0; i < n; ++i) {
    if (rng() % 10 == 0) db += 1 + static_cast<int>(rng() % 3);
    SnapshotEntry e;
    e.db = db;
    e.key = testing::Key("key", i) + RandomBytes(rng, 8);
    e.expire_at_ms =
        rng() % 3 == 0 ? static_cast<int64_t>(1'700'000'000'000 + rng() % 1'000'000) : -1;
    switch (rng() % 3) {
      case 0:
        e.kind = SnapshotEntry::Kind::kString;
        e.value = RandomBytes(rng, 100);
        break;
      case 1:
        e.kind = SnapshotEntry::Kind::kHash;
        for (int f = 0, nf = static_cast<int>(rng() % 5); f < nf; ++f) {
          e.fields.emplace_back(RandomBytes(rng, 10), RandomBytes(rng, 30));
        }
        break;
      default:
        e.kind = SnapshotEntry::Kind::kZSet;
        for (int m = 0, nm = static_cast<int>(rng() % 5); m < nm; ++m) {
          const double scores[] = {0.0,
                                   -0.0,
                                   1.5,
                                   -1e300,
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity(),
                                   static_cast<double>(rng() % 1000) / 7.0};
          e.members.emplace_back(RandomBytes(rng, 10), scores[rng() % 7]);
        }
        break;
    }
    out.push_back(std::move(e));
  }
  return out;
}

Status Write(FileSystem& fs, const std::string& path, const std::vector<SnapshotEntry>& entries) {
  RAGKV_ASSIGN_OR_RETURN(auto w, SnapshotWriter::Create(fs, path));
  RAGKV_RETURN_IF_ERROR(w->AddAux("ragkv-ver", "0.1.0"));
  for (const auto& e : entries) RAGKV_RETURN_IF_ERROR(w->Add(e));
  RAGKV_RETURN_IF_ERROR(w->AddSection("vector-index:idx", std::string(1000, '\x7f')));
  return w->Finish();
}

TEST(SnapshotTest, RoundTripsEveryKindExpiryAndDatabase) {
  FaultInjectingFileSystem fs;
  const auto entries = RandomEntries(11, 400);
  ASSERT_TRUE(Write(fs, "dump.rks", entries).ok());
  CollectingVisitor v;
  SnapshotReadStats st;
  Status s = ReadSnapshot(fs, "dump.rks", v, &st);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(v.entries.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) ASSERT_TRUE(SameEntry(v.entries[i], entries[i])) << i;
  ASSERT_EQ(v.sections.size(), 1u);
  EXPECT_EQ(v.sections[0].first, "vector-index:idx");
  EXPECT_EQ(v.sections[0].second.size(), 1000u);
  EXPECT_EQ(st.entries, entries.size());
  uint64_t sum = 0;
  for (const auto& [db, n] : st.entries_per_db) sum += n;
  EXPECT_EQ(sum, entries.size());
  EXPECT_EQ(st.bad_offset, -1);
}

TEST(SnapshotTest, NegativeZeroAndInfinitiesSurviveBitForBit) {
  FaultInjectingFileSystem fs;
  SnapshotEntry e;
  e.kind = SnapshotEntry::Kind::kZSet;
  e.key = "z";
  e.members = {{"a", -0.0}, {"b", std::numeric_limits<double>::infinity()}};
  ASSERT_TRUE(Write(fs, "s.rks", {e}).ok());
  CollectingVisitor v;
  ASSERT_TRUE(ReadSnapshot(fs, "s.rks", v).ok());
  EXPECT_TRUE(std::signbit(v.entries[0].members[0].second));
  EXPECT_TRUE(std::isinf(v.entries[0].members[1].second));
}

TEST(SnapshotTest, TruncationAtEveryOffsetIsDetected) {
  FaultInjectingFileSystem fs;
  ASSERT_TRUE(Write(fs, "full.rks", RandomEntries(5, 20)).ok());
  const std::string full = fs.Contents("full.rks");
  for (size_t cut = 0; cut < full.size(); ++cut) {
    fs.SetContents("cut.rks", full.substr(0, cut));
    CollectingVisitor v;
    SnapshotReadStats st;
    Status s = ReadSnapshot(fs, "cut.rks", v, &st);
    ASSERT_EQ(s.code(), StatusCode::kCorruption) << "cut at " << cut;
    EXPECT_GE(st.bad_offset, 0);
    EXPECT_LE(st.bad_offset, static_cast<int64_t>(cut));
  }
}

TEST(SnapshotTest, BitFlipAtEveryByteIsDetected) {
  FaultInjectingFileSystem fs;
  ASSERT_TRUE(Write(fs, "full.rks", RandomEntries(6, 15)).ok());
  const std::string full = fs.Contents("full.rks");
  for (size_t at = 0; at < full.size(); ++at) {
    fs.SetContents("flip.rks", full);
    fs.FlipBit("flip.rks", at, static_cast<int>((at * 5) % 8));
    CollectingVisitor v;
    Status s = ReadSnapshot(fs, "flip.rks", v);
    ASSERT_EQ(s.code(), StatusCode::kCorruption) << "flip at " << at;
    EXPECT_NE(s.message().find("flip.rks at offset"), std::string_view::npos) << s.ToString();
  }
}

TEST(SnapshotTest, RejectsDecreasingDbAndNaN) {
  FaultInjectingFileSystem fs;
  auto w = SnapshotWriter::Create(fs, "x.rks");
  ASSERT_TRUE(w.ok());
  SnapshotEntry e;
  e.db = 2;
  e.key = "a";
  ASSERT_TRUE((*w)->Add(e).ok());
  e.db = 1;
  EXPECT_EQ((*w)->Add(e).code(), StatusCode::kInvalidArgument);
  e.db = 3;
  e.kind = SnapshotEntry::Kind::kZSet;
  e.members = {{"m", std::nan("")}};
  EXPECT_EQ((*w)->Add(e).code(), StatusCode::kInvalidArgument);
}

TEST(SnapshotTest, AbandonedOrFailedSaveKeepsThePreviousSnapshot) {
  FaultInjectingFileSystem fs;
  const auto old_entries = RandomEntries(1, 10);
  ASSERT_TRUE(Write(fs, "dump.rks", old_entries).ok());
  const std::string old_bytes = fs.Contents("dump.rks");
  {
    auto w = SnapshotWriter::Create(fs, "dump.rks");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Add(RandomEntries(2, 1)[0]).ok());
  }  // destroyed without Finish
  EXPECT_EQ(fs.Contents("dump.rks"), old_bytes);
  EXPECT_FALSE(fs.Exists("dump.rks.tmp"));

  fs.SetCapacity(old_bytes.size() + 2000);  // disk fills up mid-save
  Status s = Write(fs, "dump.rks", RandomEntries(3, 500));
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fs.Contents("dump.rks"), old_bytes);
  EXPECT_FALSE(fs.Exists("dump.rks.tmp"));

  fs.SetCapacity(UINT64_MAX);
  fs.FailNextSyncs(1);
  EXPECT_EQ(Write(fs, "dump.rks", RandomEntries(3, 5)).code(), StatusCode::kIOError);
  EXPECT_EQ(fs.Contents("dump.rks"), old_bytes);
}

TEST(SnapshotTest, FinishedSnapshotSurvivesPowerLossAndUnfinishedOneDoesNot) {
  FaultInjectingFileSystem fs;
  const auto first = RandomEntries(1, 10);
  ASSERT_TRUE(Write(fs, "dump.rks", first).ok());
  fs.PowerLoss();
  CollectingVisitor v;
  ASSERT_TRUE(ReadSnapshot(fs, "dump.rks", v).ok());
  EXPECT_EQ(v.entries.size(), first.size());

  // Crash at every operation of a second save: either the old or the new
  // snapshot is there, complete.
  const auto second = RandomEntries(2, 30);
  for (int crash_at = 0; crash_at < 10; ++crash_at) {
    fs.CrashAfterOps(crash_at);
    (void)Write(fs, "dump.rks", second);
    fs.PowerLoss(FaultInjectingFileSystem::PowerLossMode::kTearUnsynced);
    CollectingVisitor r;
    ASSERT_TRUE(ReadSnapshot(fs, "dump.rks", r).ok()) << "crash_at=" << crash_at;
    EXPECT_TRUE(r.entries.size() == first.size() || r.entries.size() == second.size());
    ASSERT_TRUE(Write(fs, "dump.rks", first).ok());
  }
}

TEST(SnapshotTest, VisitorErrorStopsReading) {
  FaultInjectingFileSystem fs;
  ASSERT_TRUE(Write(fs, "s.rks", RandomEntries(4, 10)).ok());
  struct Failing : SnapshotVisitor {
    int seen = 0;
    Status OnEntry(SnapshotEntry&) override {
      return ++seen == 3 ? Status::ResourceExhausted("maxmemory") : Status::Ok();
    }
  } v;
  EXPECT_EQ(ReadSnapshot(fs, "s.rks", v).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(v.seen, 3);
}

}  // namespace
}  // namespace ragkv::persistence
