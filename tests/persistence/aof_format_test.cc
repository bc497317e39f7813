#include "persistence/aof_format.h"

#include <gtest/gtest.h>

#include <random>

#include "persistence/fault_injecting_file_system.h"
#include "persistence/test_util.h"

namespace ragkv::persistence {
namespace {

using testing::Views;

std::vector<std::string> RandomArgv(std::mt19937_64& rng) {
  std::vector<std::string> argv{"SET"};
  const int n = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < n; ++i) {
    std::string arg(rng() % 40, '\0');
    for (char& c : arg) c = static_cast<char>(rng() % 256);  // binary, \r\n included
    argv.push_back(arg);
  }
  return argv;
}

// Builds a record file; returns its bytes and the offset where each record starts.
std::string BuildFile(const std::vector<std::vector<std::string>>& cmds,
                      std::vector<uint64_t>* starts) {
  std::string file = AofFileHeader();
  for (const auto& argv : cmds) {
    starts->push_back(file.size());
    auto views = Views(argv);
    AppendCommandRecord(views, &file);
  }
  return file;
}

AofScan Scan(FaultInjectingFileSystem& fs, const std::string& path,
             std::vector<std::vector<std::string>>* out = nullptr) {
  auto scan = ScanAofFile(fs, path, [&](std::vector<std::string>& argv, uint64_t) {
    if (out) out->push_back(argv);
    return Status::Ok();
  });
  EXPECT_TRUE(scan.ok()) << scan.status().ToString();
  return scan.ok() ? *scan : AofScan{};
}

TEST(AofFormatTest, MultibulkRoundTripsBinaryArguments) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500; ++i) {
    auto argv = RandomArgv(rng);
    std::string payload;
    auto views = Views(argv);
    EncodeMultibulk(views, &payload);
    auto decoded = DecodeMultibulk(payload);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, argv);
  }
}

TEST(AofFormatTest, MultibulkIsPlainResp) {
  std::string payload;
  const std::string_view argv[] = {"SET", "k", "v"};
  EncodeMultibulk(argv, &payload);
  EXPECT_EQ(payload, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
}

TEST(AofFormatTest, DecodeRejectsEveryProperPrefixAndGarbage) {
  std::string payload;
  const std::string_view argv[] = {"HSET", "h", "field", "value"};
  EncodeMultibulk(argv, &payload);
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    EXPECT_FALSE(DecodeMultibulk(payload.substr(0, cut)).ok()) << "cut at " << cut;
  }
  for (std::string bad :
       {"*0\r\n", "*-1\r\n", "*1\r\n:1\r\n", "*1\r\n$5\r\nab\r\n", "*1\r\n$1\r\na\r\nextra",
        "*99999999999\r\n$1\r\na\r\n", "+OK\r\n", "*1\r\n$-1\r\n", "*1\r\n$1\r\nab"}) {
    EXPECT_FALSE(DecodeMultibulk(bad).ok()) << bad;
  }
}

TEST(AofFormatTest, CleanFileScansEveryRecord) {
  FaultInjectingFileSystem fs;
  std::mt19937_64 rng(1);
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 50; ++i) cmds.push_back(RandomArgv(rng));
  std::vector<uint64_t> starts;
  fs.SetContents("a.aof", BuildFile(cmds, &starts));
  std::vector<std::vector<std::string>> got;
  AofScan scan = Scan(fs, "a.aof", &got);
  EXPECT_EQ(scan.end, AofFileEnd::kClean);
  EXPECT_EQ(scan.records, 50u);
  EXPECT_EQ(scan.valid_bytes, scan.file_size);
  EXPECT_EQ(got, cmds);
}

TEST(AofFormatTest, TruncationAtEveryOffsetIsATornTailAtTheLastWholeRecord) {
  FaultInjectingFileSystem fs;
  std::mt19937_64 rng(2);
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 6; ++i) cmds.push_back(RandomArgv(rng));
  std::vector<uint64_t> starts;
  const std::string file = BuildFile(cmds, &starts);
  for (size_t cut = 0; cut < file.size(); ++cut) {
    fs.SetContents("t.aof", file.substr(0, cut));
    AofScan scan = Scan(fs, "t.aof");
    // Whole records before the cut survive; the rest is a torn tail.
    size_t whole = 0;
    while (whole < starts.size() &&
           (whole + 1 < starts.size() ? starts[whole + 1] : file.size()) <= cut) {
      ++whole;
    }
    const uint64_t end_of_whole = whole < starts.size() ? starts[whole] : file.size();
    const bool clean = cut >= kAofFileHeaderSize && cut == end_of_whole;
    ASSERT_EQ(scan.end, clean ? AofFileEnd::kClean : AofFileEnd::kTornTail) << "cut at " << cut;
    EXPECT_EQ(scan.records, whole) << "cut at " << cut;
    EXPECT_EQ(scan.valid_bytes, cut >= kAofFileHeaderSize ? end_of_whole : 0) << "cut at " << cut;
    EXPECT_EQ(scan.file_size, cut);
  }
}

TEST(AofFormatTest, BitFlipAnywhereIsCorruptionAtTheDamagedRecord) {
  FaultInjectingFileSystem fs;
  std::mt19937_64 rng(3);
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 5; ++i) cmds.push_back(RandomArgv(rng));
  std::vector<uint64_t> starts;
  const std::string file = BuildFile(cmds, &starts);
  for (size_t at = 0; at < file.size(); ++at) {
    fs.SetContents("f.aof", file);
    fs.FlipBit("f.aof", at, static_cast<int>(at % 8));
    AofScan scan = Scan(fs, "f.aof");
    ASSERT_EQ(scan.end, AofFileEnd::kCorruption) << "flip at " << at;
    // The scan stops at the start of the record holding the flipped byte.
    uint64_t expected = 0;
    size_t before = 0;
    if (at >= kAofFileHeaderSize) {
      expected = kAofFileHeaderSize;
      for (size_t i = 0; i < starts.size() && starts[i] <= at; ++i) {
        expected = starts[i];
        before = i;
      }
    }
    EXPECT_EQ(scan.valid_bytes, expected) << "flip at " << at;
    EXPECT_EQ(scan.records, at >= kAofFileHeaderSize ? before : 0u) << "flip at " << at;
  }
}

TEST(AofFormatTest, ZeroFilledTailIsTornButZerosThenDataIsCorruption) {
  FaultInjectingFileSystem fs;
  std::vector<std::vector<std::string>> cmds = {{"SET", "a", "1"}, {"SET", "b", "2"}};
  std::vector<uint64_t> starts;
  const std::string file = BuildFile(cmds, &starts);
  fs.SetContents("z.aof", file + std::string(100, '\0'));
  AofScan scan = Scan(fs, "z.aof");
  EXPECT_EQ(scan.end, AofFileEnd::kTornTail);
  EXPECT_EQ(scan.records, 2u);
  EXPECT_EQ(scan.valid_bytes, file.size());

  fs.SetContents("z.aof", file + std::string(100, '\0') + "x");
  EXPECT_EQ(Scan(fs, "z.aof").end, AofFileEnd::kCorruption);

  fs.SetContents("z.aof", std::string(64, '\0'));
  scan = Scan(fs, "z.aof");
  EXPECT_EQ(scan.end, AofFileEnd::kTornTail);
  EXPECT_EQ(scan.valid_bytes, 0u);
}

TEST(AofFormatTest, RecordsLargerThanTheReadChunkScan) {
  FaultInjectingFileSystem fs;
  std::vector<std::vector<std::string>> cmds = {{"SET", "big", std::string(700 * 1024, 'x')},
                                                {"SET", "small", "y"},
                                                {"SET", "big2", std::string(300 * 1024, 'z')}};
  std::vector<uint64_t> starts;
  fs.SetContents("l.aof", BuildFile(cmds, &starts));
  std::vector<std::vector<std::string>> got;
  AofScan scan = Scan(fs, "l.aof", &got);
  EXPECT_EQ(scan.end, AofFileEnd::kClean);
  EXPECT_EQ(got, cmds);
}

TEST(AofFormatTest, WrongMagicIsCorruption) {
  FaultInjectingFileSystem fs;
  fs.SetContents("m.aof", "*1\r\n$4\r\nPING\r\n");  // a Redis AOF, not ours
  EXPECT_EQ(Scan(fs, "m.aof").end, AofFileEnd::kCorruption);
}

TEST(AofFormatTest, CrcMaskRoundTrips) {
  for (uint32_t v : {0u, 1u, 0xFFFFFFFFu, 0x12345678u}) EXPECT_EQ(UnmaskCrc(MaskCrc(v)), v);
  EXPECT_NE(MaskCrc(0), 0u);
}

}  // namespace
}  // namespace ragkv::persistence
