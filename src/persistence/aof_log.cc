// AppendOnlyLog: the manifest, loading with repair, and rewrite.
//
// Loading replays the manifest's files in order. Only the last incr file may
// end torn (a crash mid-append); anything else that does not end cleanly is
// damage we refuse to paper over, because replaying around it would silently
// lose or reorder acknowledged writes. The messages name the file, the offset
// and the command that repairs it, as Redis's do.
//
// Rewrite follows Redis 7's multi-part AOF: the manifest is the single commit
// point, it is only ever replaced atomically, and every file it names is
// durable before it is published. See docs/formats/aof.md for the crash
// analysis of each step.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <sstream>

#include "common/log.h"
#include "persistence/aof.h"

namespace ragkv::persistence {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string CorruptionMessage(const std::string& file, const AofScan& scan) {
  if (scan.valid_bytes == 0 && scan.end == AofFileEnd::kCorruption) {
    return "AOF file " + file + " is not a ragkv AOF (" + scan.detail +
           "); a Redis AOF or RDB cannot be loaded by ragkv: refusing to start. Move it away, "
           "or point appenddirname/dir elsewhere.";
  }
  return "Bad AOF file " + file + " at offset " + std::to_string(scan.valid_bytes) + " (" +
         scan.detail + "): refusing to start. Inspect it with \"ragkv check-aof " + file +
         "\"; \"ragkv check-aof --fix --truncate-to-last-good " + file +
         "\" drops everything from that offset on (data loss).";
}

}  // namespace

// --- Manifest ---

Result<AofManifest> AofManifest::Parse(std::string_view text) {
  AofManifest m;
  int line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    start = end + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string k1, name, k2, seq, k3, type, extra;
    in >> k1 >> name >> k2 >> seq >> k3 >> type;
    auto bad = [&](std::string_view why) {
      return Status::Corruption("AOF manifest line " + std::to_string(line_no) + ": " +
                                std::string(why));
    };
    if (k1 != "file" || k2 != "seq" || k3 != "type" || (in >> extra)) return bad("malformed");
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
      return bad("bad file name");
    }
    AofFileInfo f;
    f.name = name;
    auto res = std::from_chars(seq.data(), seq.data() + seq.size(), f.seq);
    if (res.ec != std::errc() || res.ptr != seq.data() + seq.size()) return bad("bad seq");
    if (type == "b") {
      if (!m.files.empty()) return bad("base file must come first");
      f.type = AofFileInfo::Type::kBase;
    } else if (type == "i") {
      f.type = AofFileInfo::Type::kIncr;
    } else {
      return bad("bad type");
    }
    m.files.push_back(std::move(f));
  }
  if (m.files.empty() || m.files.back().type != AofFileInfo::Type::kIncr) {
    return Status::Corruption("AOF manifest names no incr file");
  }
  return m;
}

std::string AofManifest::Serialize() const {
  std::string out;
  for (const auto& f : files) {
    out += "file " + f.name + " seq " + std::to_string(f.seq) + " type " +
           static_cast<char>(f.type) + "\n";
  }
  return out;
}

uint64_t AofManifest::max_seq() const {
  uint64_t seq = 0;
  for (const auto& f : files) seq = std::max(seq, f.seq);
  return seq;
}

// --- Loading ---

namespace {

// Replays incr files into the visitor: interprets SELECT and holds back a
// MULTI block until its EXEC, so an unfinished transaction is never applied.
class CommandReplayer {
 public:
  explicit CommandReplayer(AofVisitor& visitor) : visitor_(visitor) {}

  void StartFile() {
    db_ = 0;
    multi_.clear();
    multi_offset_ = -1;
  }

  Status OnRecord(std::vector<std::string>& argv, uint64_t offset) {
    if (EqualsIgnoreCase(argv[0], "SELECT") && argv.size() == 2) {
      int db = 0;
      auto res = std::from_chars(argv[1].data(), argv[1].data() + argv[1].size(), db);
      if (res.ec != std::errc() || db < 0) {
        return Status::Corruption("bad SELECT record at offset " + std::to_string(offset));
      }
      db_ = db;
      return Status::Ok();
    }
    if (EqualsIgnoreCase(argv[0], "MULTI")) {
      multi_offset_ = static_cast<int64_t>(offset);
      multi_.clear();
    }
    if (multi_offset_ >= 0) {
      multi_.emplace_back(db_, std::move(argv));
      if (!EqualsIgnoreCase(multi_.back().second[0], "EXEC")) return Status::Ok();
      multi_offset_ = -1;
      for (auto& [db, args] : multi_) {
        RAGKV_RETURN_IF_ERROR(visitor_.OnCommand(db, args));
        ++commands_;
      }
      multi_.clear();
      return Status::Ok();
    }
    ++commands_;
    return visitor_.OnCommand(db_, argv);
  }

  int db() const { return db_; }
  int64_t unfinished_multi_offset() const { return multi_offset_; }
  uint64_t commands() const { return commands_; }

 private:
  AofVisitor& visitor_;
  int db_ = 0;
  std::vector<std::pair<int, std::vector<std::string>>> multi_;
  int64_t multi_offset_ = -1;
  uint64_t commands_ = 0;
};

}  // namespace

AppendOnlyLog::AppendOnlyLog(FileSystem& fs, AofOptions options)
    : fs_(fs), options_(std::move(options)), log_dir_(JoinPath(options_.dir, options_.dirname)) {}

AppendOnlyLog::~AppendOnlyLog() = default;

std::string AppendOnlyLog::manifest_path() const {
  return JoinPath(log_dir_, options_.filename + ".manifest");
}

std::string AppendOnlyLog::FileName(uint64_t seq, AofFileInfo::Type type) const {
  return options_.filename + "." + std::to_string(seq) +
         (type == AofFileInfo::Type::kBase ? ".base.rks" : ".incr.aof");
}

Status AppendOnlyLog::PublishManifest(const AofManifest& manifest) {
  return WriteFileAtomically(fs_, manifest_path(), manifest.Serialize());
}

Result<std::unique_ptr<WritableFile>> AppendOnlyLog::CreateIncrFile(const std::string& name) {
  RAGKV_ASSIGN_OR_RETURN(auto file, fs_.NewWritableFile(JoinPath(log_dir_, name)));
  RAGKV_RETURN_IF_ERROR(file->Append(AofFileHeader()));
  RAGKV_RETURN_IF_ERROR(file->Sync());
  RAGKV_RETURN_IF_ERROR(fs_.SyncDir(log_dir_));
  return file;
}

Result<std::unique_ptr<AppendOnlyLog>> AppendOnlyLog::Open(FileSystem& fs,
                                                           const AofOptions& options,
                                                           AofVisitor& visitor,
                                                           AofLoadStats* stats_out) {
  std::unique_ptr<AppendOnlyLog> log(new AppendOnlyLog(fs, options));
  AofLoadStats stats;
  RAGKV_RETURN_IF_ERROR(fs.CreateDir(options.dir));
  RAGKV_RETURN_IF_ERROR(fs.CreateDir(log->log_dir_));
  const std::string manifest_path = log->manifest_path();

  if (!fs.Exists(manifest_path)) {
    AofManifest m;
    m.files.push_back({log->FileName(1, AofFileInfo::Type::kIncr), 1, AofFileInfo::Type::kIncr});
    RAGKV_ASSIGN_OR_RETURN(auto file, log->CreateIncrFile(m.files[0].name));
    (void)file->Close();
    RAGKV_RETURN_IF_ERROR(log->PublishManifest(m));
  }
  RAGKV_ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs, manifest_path));
  auto parsed = AofManifest::Parse(text);
  if (!parsed.ok()) return parsed.status().WithPrefix(manifest_path);
  log->manifest_ = std::move(*parsed);

  CommandReplayer replayer(visitor);
  uint64_t last_valid = 0;
  int64_t truncate_to = -1;
  const std::string last_path = JoinPath(log->log_dir_, log->manifest_.files.back().name);
  for (size_t i = 0; i < log->manifest_.files.size(); ++i) {
    const AofFileInfo& info = log->manifest_.files[i];
    const std::string path = JoinPath(log->log_dir_, info.name);
    const bool last = i + 1 == log->manifest_.files.size();
    if (!fs.Exists(path)) {
      return Status::Corruption("AOF manifest " + manifest_path + " names missing file " + path);
    }
    ++stats.files;
    if (info.type == AofFileInfo::Type::kBase) {
      SnapshotReadStats st;
      Status s = ReadSnapshot(fs, path, visitor, &st);
      if (!s.ok()) {
        if (s.code() != StatusCode::kCorruption) return s;
        return Status::Corruption(std::string(s.message()) +
                                  ": refusing to start. Inspect it with \"ragkv check-snapshot " +
                                  path + "\"");
      }
      stats.base_entries = st.entries;
      stats.base_size = st.file_size;
      log->base_size_ = st.file_size;
      continue;
    }
    replayer.StartFile();
    auto scan = ScanAofFile(fs, path, [&](std::vector<std::string>& argv, uint64_t offset) {
      return replayer.OnRecord(argv, offset);
    });
    if (!scan.ok()) return scan.status();
    if (scan->end == AofFileEnd::kCorruption || (scan->end == AofFileEnd::kTornTail && !last)) {
      return Status::Corruption(CorruptionMessage(path, *scan));
    }
    if (scan->end == AofFileEnd::kTornTail) {
      if (!options.load_truncated) {
        return Status::FailedPrecondition("AOF " + path + " ends with a torn record at offset " +
                                          std::to_string(scan->valid_bytes) +
                                          " (a crash mid-append) and aof-load-truncated is "
                                          "no: run \"ragkv check-aof --fix " +
                                          path + "\" or set aof-load-truncated yes");
      }
      truncate_to = static_cast<int64_t>(scan->valid_bytes);
    }
    if (last && replayer.unfinished_multi_offset() >= 0) {
      // The MULTI block never reached EXEC: drop it, as Redis does.
      truncate_to = replayer.unfinished_multi_offset();
    }
    last_valid = scan->valid_bytes;
    if (!last) log->closed_incr_size_ += scan->file_size;
    stats.total_size += scan->file_size;
  }
  (void)last_valid;
  stats.commands = replayer.commands();
  stats.total_size += stats.base_size;

  RAGKV_ASSIGN_OR_RETURN(uint64_t last_size, fs.FileSize(last_path));
  if (truncate_to >= 0 && static_cast<uint64_t>(truncate_to) < last_size) {
    stats.truncated_bytes = last_size - static_cast<uint64_t>(truncate_to);
    log::Warn("AOF " + last_path + " had a torn tail: truncated " +
              std::to_string(stats.truncated_bytes) + " bytes at offset " +
              std::to_string(truncate_to));
    RAGKV_RETURN_IF_ERROR(fs.Truncate(last_path, static_cast<uint64_t>(truncate_to)));
    stats.total_size -= stats.truncated_bytes;
  }
  RAGKV_ASSIGN_OR_RETURN(auto file, fs.NewAppendableFile(last_path));
  if (file->size() < kAofFileHeaderSize) {
    // Crash while the header was written: start the file over.
    RAGKV_RETURN_IF_ERROR(file->Truncate(0));
    RAGKV_RETURN_IF_ERROR(file->Append(AofFileHeader()));
  }
  if (stats.truncated_bytes > 0 || file->size() == kAofFileHeaderSize) {
    RAGKV_RETURN_IF_ERROR(file->Sync());
  }

  // Files the manifest does not name are leftovers of an interrupted rewrite.
  RAGKV_ASSIGN_OR_RETURN(auto names, fs.ListDir(log->log_dir_));
  for (const auto& name : names) {
    if (name.rfind(options.filename + ".", 0) != 0 || name == options.filename + ".manifest") {
      continue;
    }
    const bool named = std::any_of(log->manifest_.files.begin(), log->manifest_.files.end(),
                                   [&](const AofFileInfo& f) { return f.name == name; });
    if (!named) {
      log::Info("Removing leftover AOF file " + JoinPath(log->log_dir_, name));
      (void)fs.Remove(JoinPath(log->log_dir_, name));
    }
  }

  log->writer_ = std::make_unique<AofWriter>(std::move(file), options.fsync, replayer.db());
  log->size_at_last_rewrite_ = log->current_size();
  if (stats_out) *stats_out = stats;
  return log;
}

Result<std::unique_ptr<AppendOnlyLog>> AppendOnlyLog::StartFresh(FileSystem& fs,
                                                                 const AofOptions& options) {
  std::unique_ptr<AppendOnlyLog> log(new AppendOnlyLog(fs, options));
  RAGKV_RETURN_IF_ERROR(fs.CreateDir(options.dir));
  RAGKV_RETURN_IF_ERROR(fs.CreateDir(log->log_dir_));
  // Keep the old manifest as the one in force (CommitRewrite deletes its
  // files); a damaged one is simply replaced.
  if (fs.Exists(log->manifest_path())) {
    auto text = ReadFileToString(fs, log->manifest_path());
    if (text.ok()) {
      auto parsed = AofManifest::Parse(*text);
      if (parsed.ok()) log->manifest_ = std::move(*parsed);
    }
  }
  const uint64_t seq = log->manifest_.max_seq() + 1;
  const AofFileInfo incr{log->FileName(seq, AofFileInfo::Type::kIncr), seq,
                         AofFileInfo::Type::kIncr};
  RAGKV_ASSIGN_OR_RETURN(auto file, log->CreateIncrFile(incr.name));
  log->writer_ = std::make_unique<AofWriter>(std::move(file), options.fsync, 0);
  log->rewrite_manifest_.files.push_back(
      {log->FileName(seq, AofFileInfo::Type::kBase), seq, AofFileInfo::Type::kBase});
  log->rewrite_manifest_.files.push_back(incr);
  log->new_base_ = JoinPath(log->log_dir_, log->rewrite_manifest_.files[0].name);
  log->rewrite_ = RewriteState::kSwitched;
  return log;
}

// --- Rewrite ---

Status AppendOnlyLog::BeginRewrite() {
  std::lock_guard<std::mutex> lock(mu_);
  if (rewrite_ != RewriteState::kIdle) {
    return Status::FailedPrecondition("Background append only file rewriting already in progress");
  }
  const uint64_t seq = manifest_.max_seq() + 1;
  AofManifest next = manifest_;
  next.files.push_back({FileName(seq, AofFileInfo::Type::kIncr), seq, AofFileInfo::Type::kIncr});
  RAGKV_ASSIGN_OR_RETURN(auto file, CreateIncrFile(next.files.back().name));
  const uint64_t old_incr = writer_->stats().file_size;
  Status s = writer_->SwitchFile(std::move(file), [&] { return PublishManifest(next); });
  if (!s.ok()) {
    (void)fs_.Remove(JoinPath(log_dir_, next.files.back().name));
    return s;
  }
  closed_incr_size_ += old_incr;
  manifest_ = next;
  rewrite_manifest_ = AofManifest{};
  rewrite_manifest_.files.push_back(
      {FileName(seq, AofFileInfo::Type::kBase), seq, AofFileInfo::Type::kBase});
  rewrite_manifest_.files.push_back(next.files.back());
  new_base_ = JoinPath(log_dir_, rewrite_manifest_.files[0].name);
  rewrite_ = RewriteState::kSwitched;
  return Status::Ok();
}

Status AppendOnlyLog::WriteBase(const std::function<Status(SnapshotWriter&)>& fill) {
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (rewrite_ != RewriteState::kSwitched) {
      return Status::FailedPrecondition("WriteBase needs BeginRewrite first");
    }
    path = new_base_;
  }
  RAGKV_ASSIGN_OR_RETURN(auto writer, SnapshotWriter::Create(fs_, path));
  RAGKV_RETURN_IF_ERROR(fill(*writer));
  RAGKV_RETURN_IF_ERROR(writer->Finish());
  std::lock_guard<std::mutex> lock(mu_);
  rewrite_ = RewriteState::kBaseWritten;
  return Status::Ok();
}

std::string AppendOnlyLog::pending_base_path() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rewrite_ == RewriteState::kIdle ? std::string() : new_base_;
}

Status AppendOnlyLog::AdoptBase() {
  std::lock_guard<std::mutex> lock(mu_);
  if (rewrite_ != RewriteState::kSwitched) {
    return Status::FailedPrecondition("AdoptBase needs BeginRewrite first");
  }
  if (!fs_.Exists(new_base_))
    return Status::NotFound("rewritten base " + new_base_ + " is missing");
  rewrite_ = RewriteState::kBaseWritten;
  return Status::Ok();
}

Status AppendOnlyLog::CommitRewrite() {
  std::lock_guard<std::mutex> lock(mu_);
  if (rewrite_ != RewriteState::kBaseWritten) {
    return Status::FailedPrecondition("CommitRewrite needs WriteBase first");
  }
  RAGKV_RETURN_IF_ERROR(PublishManifest(rewrite_manifest_));
  for (const auto& f : manifest_.files) {
    const bool kept = std::any_of(rewrite_manifest_.files.begin(), rewrite_manifest_.files.end(),
                                  [&](const AofFileInfo& g) { return g.name == f.name; });
    if (!kept) (void)fs_.Remove(JoinPath(log_dir_, f.name));
  }
  (void)fs_.SyncDir(log_dir_);
  manifest_ = rewrite_manifest_;
  auto size = fs_.FileSize(new_base_);
  base_size_ = size.ok() ? *size : 0;
  closed_incr_size_ = 0;
  rewrite_ = RewriteState::kIdle;
  size_at_last_rewrite_ = base_size_ + writer_->stats().file_size;
  return Status::Ok();
}

void AppendOnlyLog::AbortRewrite() {
  std::lock_guard<std::mutex> lock(mu_);
  if (rewrite_ == RewriteState::kIdle) return;
  (void)fs_.Remove(new_base_);
  (void)fs_.Remove(new_base_ + ".tmp");
  rewrite_ = RewriteState::kIdle;
}

Status AppendOnlyLog::Rewrite(const std::function<Status(SnapshotWriter&)>& fill) {
  RAGKV_RETURN_IF_ERROR(BeginRewrite());
  Status s = WriteBase(fill);
  if (s.ok()) s = CommitRewrite();
  if (!s.ok()) AbortRewrite();
  return s;
}

bool AppendOnlyLog::rewrite_in_progress() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rewrite_ != RewriteState::kIdle;
}

uint64_t AppendOnlyLog::current_size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return base_size_ + closed_incr_size_ + writer_->stats().file_size;
}

uint64_t AppendOnlyLog::base_size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return base_size_;
}

uint64_t AppendOnlyLog::size_at_last_rewrite() const {
  std::lock_guard<std::mutex> lock(mu_);
  return size_at_last_rewrite_;
}

// --- Locking and checking ---

Result<std::unique_ptr<FileLock>> LockDataDir(FileSystem& fs, const std::string& dir) {
  RAGKV_RETURN_IF_ERROR(fs.CreateDir(dir));
  const std::string path = JoinPath(dir, "ragkv.lock");
  auto lock = fs.LockFile(path);
  if (lock.ok() || lock.status().code() != StatusCode::kFailedPrecondition) return lock;
  // The holder wrote its pid into the file (PosixFileSystem::LockFile).
  std::string pid;
  if (auto text = ReadFileToString(fs, path); text.ok()) {
    for (char c : *text) {
      if (c < '0' || c > '9') break;
      pid.push_back(c);
    }
  }
  if (!pid.empty() && pid == std::to_string(::getpid())) {
    return Status::FailedPrecondition("data directory " + dir +
                                      " is already open in this process (pid " + pid + ")");
  }
  return Status::FailedPrecondition("data directory " + dir +
                                    " is in use by another ragkv process" +
                                    (pid.empty() ? std::string() : " (pid " + pid + ")"));
}

Result<std::vector<AofCheckReport>> CheckAof(FileSystem& fs, const std::string& path) {
  std::vector<AofCheckReport> reports;
  const std::string suffix = ".manifest";
  const bool is_manifest = path.size() > suffix.size() &&
                           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  if (!is_manifest) {
    RAGKV_ASSIGN_OR_RETURN(AofScan scan, ScanAofFile(fs, path, nullptr));
    reports.push_back({path, std::move(scan)});
    return reports;
  }
  RAGKV_ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs, path));
  RAGKV_ASSIGN_OR_RETURN(AofManifest m, AofManifest::Parse(text));
  const std::string dir = DirName(path);
  for (const auto& f : m.files) {
    const std::string file = JoinPath(dir, f.name);
    AofCheckReport report{file, {}};
    if (f.type == AofFileInfo::Type::kBase) {
      struct Ignore : SnapshotVisitor {
        Status OnEntry(SnapshotEntry&) override { return Status::Ok(); }
      } ignore;
      SnapshotReadStats st;
      Status s = ReadSnapshot(fs, file, ignore, &st);
      report.scan.records = st.entries;
      report.scan.file_size = st.file_size;
      if (s.ok()) {
        report.scan.valid_bytes = st.file_size;
      } else if (s.code() == StatusCode::kCorruption) {
        report.scan.end = AofFileEnd::kCorruption;
        report.scan.valid_bytes = static_cast<uint64_t>(std::max<int64_t>(st.bad_offset, 0));
        report.scan.detail = std::string(s.message());
      } else {
        return s;
      }
    } else {
      RAGKV_ASSIGN_OR_RETURN(report.scan, ScanAofFile(fs, file, nullptr));
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace ragkv::persistence
