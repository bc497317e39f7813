// AofWriter: group commit with fsync policies and self-healing errors.
//
// Leader/follower group commit: Append only encodes into `pending_` under the
// mutex. The first WaitDurable caller that finds no I/O running becomes the
// leader, takes everything pending, writes it with one write() and (under
// always) one fdatasync, outside the mutex. Callers arriving meanwhile append
// to a fresh `pending_` and wait; the next leader carries all of them with
// one more write+fsync. So N concurrent clients cost about two fsyncs, not N.
//
// Errors: every byte not yet known durable is kept in `retained_` (bytes
// written since the last good fsync, or since the last good write under
// "no"). After any failure the next round truncates the file back to
// `file_good_size_` and rewrites `retained_`, instead of retrying fsync: after
// a failed fsync Linux may have dropped the dirty pages while marking them
// clean, so a second fsync can "succeed" without the data (fsyncgate; Rebello
// et al., ATC'20). Redis exits on that under always; we keep serving reads.
//
// Rejected: a dedicated writer thread per record (a context switch per
// command), and letting the everysec fsync run concurrently with writes (it
// would need a second lock order for repairs; one I/O at a time is simpler and
// an fsync on a healthy disk takes milliseconds). Known limit: under everysec
// a WaitDurable that arrives during the background fsync waits for it.
#include <algorithm>
#include <charconv>

#include "persistence/aof.h"

namespace ragkv::persistence {

Result<FsyncPolicy> ParseFsyncPolicy(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "always") return FsyncPolicy::kAlways;
  if (lower == "everysec") return FsyncPolicy::kEverysec;
  if (lower == "no") return FsyncPolicy::kNo;
  return Status::InvalidArgument("appendfsync must be always, everysec or no");
}

std::string_view FsyncPolicyName(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kEverysec:
      return "everysec";
    case FsyncPolicy::kNo:
      return "no";
  }
  return "?";
}

AofWriter::AofWriter(std::unique_ptr<WritableFile> file, FsyncPolicy policy, int current_db)
    : policy_(policy), current_db_(current_db), file_(std::move(file)) {
  file_good_size_ = file_->size();
  background_ = std::thread([this] { BackgroundLoop(); });
}

AofWriter::~AofWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  background_.join();
  (void)SyncNow();
  (void)file_->Close();
}

uint64_t AofWriter::Append(int db, std::span<const std::string_view> argv) {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t before = pending_.size();
  if (db != current_db_) {
    char buf[16];
    auto res = std::to_chars(buf, buf + sizeof(buf), db);
    const std::string_view select[] = {"SELECT", std::string_view(buf, res.ptr - buf)};
    AppendCommandRecord(select, &pending_);
    current_db_ = db;
  }
  AppendCommandRecord(argv, &pending_);
  appended_ += pending_.size() - before;
  return appended_;
}

uint64_t AofWriter::DurableOffset() const {
  return policy_ == FsyncPolicy::kAlways ? synced_ : written_;
}

void AofWriter::RunIo(std::unique_lock<std::mutex>& lock, bool sync) {
  io_busy_ = true;
  const uint64_t batch_end = appended_;
  // Under "no" nothing is retained past a good write, so a new batch starts
  // at the current end of the file.
  retained_.append(pending_);
  const size_t batch_size = pending_.size();
  pending_.clear();
  const bool repair = needs_repair_;
  std::shared_ptr<WritableFile> file = file_;
  lock.unlock();

  Status s;
  if (repair) {
    s = file->Truncate(file_good_size_);
    if (s.ok()) s = file->Append(retained_);
  } else if (batch_size > 0) {
    s = file->Append(std::string_view(retained_).substr(retained_.size() - batch_size));
  }
  bool synced = false;
  if (s.ok() && sync) {
    s = file->Sync();
    synced = s.ok();
  }
  if (s.ok() && (synced || policy_ == FsyncPolicy::kNo)) {
    file_good_size_ = file->size();
    retained_.clear();
  }

  lock.lock();
  io_busy_ = false;
  if (s.ok()) {
    written_ = std::max(written_, batch_end);
    if (sync) synced_ = std::max(synced_, batch_end);
    if (repair || batch_size > 0) ++writes_;
    if (synced) ++fsyncs_;
    needs_repair_ = false;
    error_ = Status::Ok();
  } else {
    needs_repair_ = true;
    error_ = std::move(s);
  }
  cv_.notify_all();
}

Status AofWriter::WaitDurable(uint64_t offset) {
  std::unique_lock<std::mutex> lock(mu_);
  bool tried = false;
  while (DurableOffset() < offset) {
    if (!error_.ok() && tried) return error_;
    if (io_busy_) {
      cv_.wait(lock);
      continue;
    }
    // Without an error the leader's round covers `offset` (it was appended
    // before this call); after an error each waiter retries once, then gives up.
    RunIo(lock, policy_ == FsyncPolicy::kAlways);
    tried = true;
  }
  return Status::Ok();
}

Status AofWriter::SyncNow() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = appended_;
  bool tried = false;
  while (synced_ < target || needs_repair_) {
    if (tried && !error_.ok()) return error_;
    if (io_busy_) {
      cv_.wait(lock);
      continue;
    }
    RunIo(lock, /*sync=*/true);
    tried = true;
  }
  return error_;
}

Status AofWriter::SwitchFile(std::unique_ptr<WritableFile> next,
                             const std::function<Status()>& before_switch) {
  std::unique_lock<std::mutex> lock(mu_);
  // Drain: everything appended so far must be durable in the old file. New
  // appends can arrive while the lock is released for I/O, so loop until a
  // round ends with nothing pending.
  int attempts = 0;
  while (!pending_.empty() || synced_ < appended_ || needs_repair_ || io_busy_) {
    if (io_busy_) {
      cv_.wait(lock);
      continue;
    }
    if (!error_.ok() && attempts > 0) return error_;
    RunIo(lock, /*sync=*/true);
    ++attempts;
  }
  if (before_switch) RAGKV_RETURN_IF_ERROR(before_switch());
  (void)file_->Close();
  file_ = std::move(next);
  file_good_size_ = file_->size();
  retained_.clear();
  current_db_ = 0;
  return Status::Ok();
}

Status AofWriter::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

AofWriterStats AofWriter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  AofWriterStats st;
  st.appended_bytes = appended_;
  st.written_bytes = written_;
  st.synced_bytes = synced_;
  st.writes = writes_;
  st.fsyncs = fsyncs_;
  st.buffer_length = pending_.size();
  st.file_size = file_->size();
  st.ok = error_.ok();
  st.last_error = error_.ok() ? "" : error_.ToString();
  return st;
}

void AofWriter::BackgroundLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, kBackgroundPeriod, [this] { return stop_; });
    if (stop_ || io_busy_) continue;
    const bool behind = policy_ == FsyncPolicy::kEverysec ? synced_ < appended_
                                                          : written_ < appended_ && needs_repair_;
    if (behind || needs_repair_) {
      RunIo(lock, /*sync=*/policy_ != FsyncPolicy::kNo);
    }
  }
}

}  // namespace ragkv::persistence
