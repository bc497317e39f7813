// `ragkv check-aof [--fix [--truncate-to-last-good]] FILE` and
// `ragkv check-snapshot FILE`: offline inspection and repair of persistence
// files, the counterparts of redis-check-aof / redis-check-rdb.
//
// --fix only ever truncates, and only the last file of a log: a torn tail is
// the expected result of a crash and cutting it loses nothing acknowledged
// under appendfsync always. A checksum error in the middle is different: the
// bytes after it may be acknowledged writes, so cutting there needs the
// explicit --truncate-to-last-good. Exit codes: 0 valid (or fixed), 1 damage
// left in place (check-snapshot: also a saved vector index that fails
// verification), 2 usage or I/O error.
#include <cstdio>
#include <string>

#include "cli/subcommand.h"
#include "persistence/aof.h"
#include "persistence/snapshot.h"
#include "search/vector_snapshot.h"
#include "server/persistence.h"

namespace ragkv::cli {
namespace {

using persistence::AofCheckReport;
using persistence::AofFileEnd;

struct CheckAofArgs {
  std::string file;
  bool fix = false;
  bool truncate_to_last_good = false;
};

std::string Describe(const AofCheckReport& r) {
  const auto& s = r.scan;
  std::string out = r.file + ": " + std::to_string(s.records) + " records, valid up to offset " +
                    std::to_string(s.valid_bytes) + " of " + std::to_string(s.file_size) +
                    " bytes: ";
  switch (s.end) {
    case AofFileEnd::kClean:
      return out + "ok";
    case AofFileEnd::kTornTail:
      return out + "torn tail of " + std::to_string(s.file_size - s.valid_bytes) + " bytes (" +
             s.detail + ")";
    case AofFileEnd::kCorruption:
      return out + "CORRUPTION at offset " + std::to_string(s.valid_bytes) + " (" + s.detail + ")";
  }
  return out;
}

Status Truncate(persistence::FileSystem& fs, const std::string& path, uint64_t size) {
  RAGKV_RETURN_IF_ERROR(fs.Truncate(path, size));
  RAGKV_ASSIGN_OR_RETURN(auto file, fs.NewAppendableFile(path));
  if (file->size() < persistence::kAofFileHeaderSize) {
    RAGKV_RETURN_IF_ERROR(file->Truncate(0));
    RAGKV_RETURN_IF_ERROR(file->Append(persistence::AofFileHeader()));
  }
  RAGKV_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

int RunCheckAof(const CheckAofArgs& args) {
  auto& fs = *persistence::DefaultFileSystem();
  auto reports = persistence::CheckAof(fs, args.file);
  if (!reports.ok()) {
    std::fprintf(stderr, "check-aof: %s\n", reports.status().ToString().c_str());
    return 2;
  }
  int exit_code = 0;
  for (size_t i = 0; i < reports->size(); ++i) {
    const AofCheckReport& r = (*reports)[i];
    const bool last = i + 1 == reports->size();
    std::printf("%s\n", Describe(r).c_str());
    if (r.scan.end == AofFileEnd::kClean) continue;
    const bool corruption = r.scan.end == AofFileEnd::kCorruption;
    if (!args.fix) {
      std::printf("  run \"ragkv check-aof --fix%s %s\" to truncate it to offset %llu\n",
                  corruption ? " --truncate-to-last-good" : "", args.file.c_str(),
                  static_cast<unsigned long long>(r.scan.valid_bytes));
      exit_code = 1;
      continue;
    }
    if (corruption && r.scan.valid_bytes == 0) {
      std::printf(
          "  not fixed: this is not a ragkv AOF at all (a Redis file?); refusing to "
          "touch it.\n");
      exit_code = 1;
      continue;
    }
    if (!last || r.file.ends_with(".rks")) {
      std::printf(
          "  not fixed: only the last incr file of a log can be truncated; later files "
          "depend on this one. Restore it from a backup.\n");
      exit_code = 1;
      continue;
    }
    if (corruption && !args.truncate_to_last_good) {
      std::printf(
          "  not fixed: the damage is not a torn tail, and the %llu bytes after it may "
          "hold acknowledged writes. Add --truncate-to-last-good to drop them anyway.\n",
          static_cast<unsigned long long>(r.scan.file_size - r.scan.valid_bytes));
      exit_code = 1;
      continue;
    }
    Status s = Truncate(fs, r.file, r.scan.valid_bytes);
    if (!s.ok()) {
      std::fprintf(stderr, "check-aof: %s\n", s.ToString().c_str());
      return 2;
    }
    std::printf("  fixed: truncated to %llu bytes (%llu bytes dropped)\n",
                static_cast<unsigned long long>(r.scan.valid_bytes),
                static_cast<unsigned long long>(r.scan.file_size - r.scan.valid_bytes));
  }
  return exit_code;
}

std::function<int()> SetupCheckAof(CLI::App& app) {
  auto args = std::make_shared<CheckAofArgs>();
  auto* sub = app.add_subcommand(
      "check-aof",
      "Check an append-only file (an .incr.aof file or the .manifest) and optionally "
      "repair a torn tail");
  sub->add_option("file", args->file, "AOF incr file or manifest")->required();
  sub->add_flag("--fix", args->fix, "Truncate a torn tail of the last file");
  sub->add_flag("--truncate-to-last-good", args->truncate_to_last_good,
                "With --fix, also cut at a checksum error (drops everything after it)");
  return [args] { return RunCheckAof(*args); };
}

int RunCheckSnapshot(const std::string& path) {
  // Saved vector indexes are decoded and verified as the server would (their
  // checksum, structure and graph invariants); a damaged one does not stop
  // a server from starting (it rebuilds that index) but is reported here.
  struct Counter : persistence::SnapshotVisitor {
    Status OnEntry(persistence::SnapshotEntry&) override { return Status::Ok(); }
    Status OnSection(std::string_view name, std::string_view blob) override {
      if (name.substr(0, server::kVectorIndexSection.size()) != server::kVectorIndexSection) {
        return Status::Ok();
      }
      auto saved = search::DecodeSavedVectorField(blob);
      if (!saved.ok()) {
        ++damaged_sections;
        lines += "  " + std::string(name) + ": DAMAGED (" + std::string(saved.status().message()) +
                 "); a server loading this file rebuilds that index from the keys\n";
        return Status::Ok();
      }
      const vec::IndexSpec& spec = saved->index->spec();
      lines += "  " + std::string(name) + ": " + std::string(vec::AlgorithmName(spec.algorithm)) +
               " " + std::string(vec::ElementTypeName(spec.type)) + " dim " +
               std::to_string(spec.dim) + ", " + std::to_string(saved->index->size()) +
               " vectors, " + std::to_string(saved->docs.size()) + " documents, db " +
               std::to_string(saved->db) + ": ok\n";
      return Status::Ok();
    }
    std::string lines;
    uint64_t damaged_sections = 0;
  } counter;
  persistence::SnapshotReadStats st;
  Status s = persistence::ReadSnapshot(*persistence::DefaultFileSystem(), path, counter, &st);
  if (!s.ok() && s.code() != StatusCode::kCorruption) {
    std::fprintf(stderr, "check-snapshot: %s\n", s.ToString().c_str());
    return 2;
  }
  std::printf("%s: %llu bytes, %llu entries, %llu sections\n", path.c_str(),
              static_cast<unsigned long long>(st.file_size),
              static_cast<unsigned long long>(st.entries),
              static_cast<unsigned long long>(st.sections));
  for (const auto& [db, n] : st.entries_per_db) {
    std::printf("  db%d: %llu entries\n", db, static_cast<unsigned long long>(n));
  }
  std::fputs(counter.lines.c_str(), stdout);
  if (!s.ok()) {
    std::printf("CORRUPTION: first bad item at offset %lld: %s\n",
                static_cast<long long>(st.bad_offset), std::string(s.message()).c_str());
    return 1;
  }
  if (counter.damaged_sections > 0) {
    std::printf("DAMAGED: %llu saved vector index section(s) fail verification\n",
                static_cast<unsigned long long>(counter.damaged_sections));
    return 1;
  }
  std::printf("ok\n");
  return 0;
}

std::function<int()> SetupCheckSnapshot(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("check-snapshot", "Verify a snapshot (.rks) file");
  sub->add_option("file", *path, "Snapshot file")->required();
  return [path] { return RunCheckSnapshot(*path); };
}

}  // namespace
RAGKV_REGISTER_SUBCOMMAND("check-aof", SetupCheckAof);
RAGKV_REGISTER_SUBCOMMAND("check-snapshot", SetupCheckSnapshot);
}  // namespace ragkv::cli
