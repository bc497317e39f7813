// libFuzzer entry point for the loaders: arbitrary bytes as an AOF record file
// and as a snapshot, read through the in-memory FaultInjectingFileSystem.
// Neither loader may crash, hang, or allocate beyond the input's size; an AOF
// that scans clean must re-encode to exactly the bytes it was read from.
// The first input byte picks a mode; modes 1 and 2 prepend a valid file
// header so the fuzzer starts past the magic numbers. Mode 3 is structured:
// it builds a valid AOF and snapshot from the input's words, flips one bit
// chosen by the input, and requires both readers to notice.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "persistence/aof_format.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/snapshot.h"

namespace {

using ragkv::Status;
using namespace ragkv::persistence;

class Discard : public SnapshotVisitor {
 public:
  Status OnEntry(SnapshotEntry&) override { return Status::Ok(); }
};

}  // namespace

// Mode 3: valid files from `body`'s words, then one flipped bit.
void FlippedBitIsDetected(const std::string& body) {
  if (body.size() < 4) return;
  const uint32_t pick = static_cast<uint8_t>(body[0]) | (static_cast<uint8_t>(body[1]) << 8) |
                        (static_cast<uint32_t>(static_cast<uint8_t>(body[2])) << 16);
  std::vector<std::vector<std::string>> cmds;
  std::vector<std::string> cur;
  std::string word;
  for (char c : body.substr(3) + "\n") {
    if (c == ' ' || c == '\n') {
      if (!word.empty()) cur.push_back(word);
      word.clear();
      if (c == '\n' && !cur.empty()) {
        cmds.push_back(cur);
        cur.clear();
      }
    } else {
      word.push_back(c);
    }
  }
  if (cmds.empty()) return;
  FaultInjectingFileSystem fs;
  std::string aof = AofFileHeader();
  std::vector<uint64_t> starts;
  for (const auto& argv : cmds) {
    starts.push_back(aof.size());
    std::vector<std::string_view> views(argv.begin(), argv.end());
    AppendCommandRecord(views, &aof);
  }
  const uint64_t bit = pick % (aof.size() * 8);
  fs.SetContents("g.aof", aof);
  fs.FlipBit("g.aof", bit / 8, static_cast<int>(bit % 8));
  size_t delivered = 0;
  auto scan = ScanAofFile(fs, "g.aof", [&](std::vector<std::string>& argv, uint64_t) {
    if (delivered >= cmds.size() || argv != cmds[delivered]) std::abort();
    ++delivered;
    return Status::Ok();
  });
  if (!scan.ok() || scan->end != AofFileEnd::kCorruption) std::abort();
  // Exactly the records that end before the flipped byte are delivered.
  size_t before = 0;
  for (size_t i = 0; i < starts.size(); ++i) {
    const uint64_t end_of_record = i + 1 < starts.size() ? starts[i + 1] : aof.size();
    if (end_of_record <= bit / 8) before = i + 1;
  }
  if (delivered != before) std::abort();

  auto writer = SnapshotWriter::Create(fs, "g.rks");
  if (!writer.ok()) std::abort();
  for (size_t i = 0; i < cmds.size(); ++i) {
    SnapshotEntry e;
    e.key = cmds[i][0];
    if (i % 2 == 0) {
      e.value = cmds[i].size() > 1 ? cmds[i][1] : "";
    } else {
      e.kind = SnapshotEntry::Kind::kHash;
      for (size_t j = 1; j + 1 < cmds[i].size(); j += 2)
        e.fields.emplace_back(cmds[i][j], cmds[i][j + 1]);
    }
    if (!(*writer)->Add(e).ok()) std::abort();
  }
  if (!(*writer)->Finish().ok()) std::abort();
  const std::string snap = fs.Contents("g.rks");
  const uint64_t sbit = pick % (snap.size() * 8);
  fs.FlipBit("g.rks", sbit / 8, static_cast<int>(sbit % 8));
  Discard discard;
  if (ReadSnapshot(fs, "g.rks", discard).code() != ragkv::StatusCode::kCorruption) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 4;
  if (mode == 3) {
    FlippedBitIsDetected(std::string(reinterpret_cast<const char*>(data + 1), size - 1));
    return 0;
  }
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  FaultInjectingFileSystem fs;

  std::string aof = mode == 1 ? AofFileHeader() + body : body;
  fs.SetContents("f.aof", aof);
  std::string reencoded = AofFileHeader();
  auto scan = ScanAofFile(fs, "f.aof", [&](std::vector<std::string>& argv, uint64_t) {
    std::vector<std::string_view> views(argv.begin(), argv.end());
    AppendCommandRecord(views, &reencoded);
    return Status::Ok();
  });
  if (!scan.ok()) std::abort();  // only I/O errors may fail, and there are none
  if (scan->valid_bytes > aof.size() || scan->file_size != aof.size()) std::abort();
  if (scan->end == AofFileEnd::kClean && reencoded != aof) std::abort();
  if (scan->valid_bytes >= kAofFileHeaderSize && reencoded != aof.substr(0, scan->valid_bytes)) {
    std::abort();  // the valid prefix must be exactly the records delivered
  }

  std::string snap = mode == 2 ? std::string("RAGKVSNP\x01\x00\x00\x00", 12) + body : body;
  fs.SetContents("f.rks", snap);
  Discard discard;
  SnapshotReadStats stats;
  Status s = ReadSnapshot(fs, "f.rks", discard, &stats);
  if (!s.ok() && s.code() != ragkv::StatusCode::kCorruption) std::abort();
  return 0;
}
