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
// Under everysec the background thread fsyncs what the event loop already
// wrote while later writes go on (write(2) and fdatasync(2) on one file may
// run concurrently); only a repair, which truncates, waits for that fsync.
// Unlike Redis, a write is never postponed behind a slow fsync, so a process
// crash never loses an acknowledged write.
//
// Rejected: a dedicated writer thread that every committer hands records to
// (a context switch per command, and the event loop must still wait for it).
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
  // A repair truncates the file, which must not race with an fsync of it.
  cv_.wait(lock, [this] { return !needs_repair_ || !sync_busy_; });
  const uint64_t batch_end = appended_;
  const bool repair = needs_repair_;
  // The leader writes from its own copy, so the background fsync may trim
  // retained_ (under the mutex) while this write runs.
  std::string batch = std::move(pending_);
  pending_.clear();
  // Kept until known durable (or, under "no", until written), so a failed
  // round can be redone from the last good length.
  retained_.append(batch);
  const std::string to_write = repair ? retained_ : std::move(batch);
  const uint64_t good_size = file_good_size_;
  std::shared_ptr<WritableFile> file = file_;
  lock.unlock();

  Status s;
  if (repair) s = file->Truncate(good_size);
  if (s.ok() && !to_write.empty()) s = file->Append(to_write);
  bool synced = false;
  if (s.ok() && sync) {
    s = file->Sync();
    synced = s.ok();
  }
  const uint64_t size_after = file->size();

  lock.lock();
  io_busy_ = false;
  if (s.ok()) {
    written_ = std::max(written_, batch_end);
    if (synced) synced_ = std::max(synced_, batch_end);
    if (!to_write.empty()) ++writes_;
    if (synced) ++fsyncs_;
    if (synced || policy_ == FsyncPolicy::kNo) {
      file_good_size_ = size_after;
      retained_.clear();
    }
    // Only a repair round fixes an earlier failure; a plain write that
    // succeeded after a failed background fsync does not.
    if (repair) needs_repair_ = false;
    if (!needs_repair_) error_ = Status::Ok();
  } else {
    needs_repair_ = true;
    error_ = std::move(s);
  }
  cv_.notify_all();
}

void AofWriter::BackgroundSync(std::unique_lock<std::mutex>& lock) {
  sync_busy_ = true;
  const uint64_t target = written_;
  // With no write in flight, the file holds exactly [0, good) + retained_.
  const uint64_t size_at_start = file_good_size_ + retained_.size();
  std::shared_ptr<WritableFile> file = file_;
  lock.unlock();
  Status s = file->Sync();
  lock.lock();
  sync_busy_ = false;
  if (s.ok()) {
    synced_ = std::max(synced_, target);
    ++fsyncs_;
    // Drop the now-durable prefix of retained_, unless a foreground sync or a
    // file switch already moved past it.
    if (file == file_ && file_good_size_ <= size_at_start) {
      retained_.erase(0, size_at_start - file_good_size_);
      file_good_size_ = size_at_start;
    }
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
  while (!pending_.empty() || synced_ < appended_ || needs_repair_ || io_busy_ || sync_busy_) {
    if (io_busy_ || sync_busy_) {  // the old file is closed below: no fsync may be running
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

FsyncPolicy AofWriter::policy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return policy_;
}

void AofWriter::set_policy(FsyncPolicy policy) {
  std::lock_guard<std::mutex> lock(mu_);
  policy_ = policy;
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
    if (stop_ || io_busy_ || sync_busy_) continue;
    if (needs_repair_) {
      RunIo(lock, /*sync=*/policy_ != FsyncPolicy::kNo);
    } else if (policy_ == FsyncPolicy::kEverysec && written_ < appended_) {
      RunIo(lock, /*sync=*/true);  // nobody waited for these yet: write and sync them
    } else if (policy_ == FsyncPolicy::kEverysec && synced_ < written_) {
      // The common case: fsync what the event loop already wrote, without
      // holding up its next writes (write(2) and fdatasync(2) on one file
      // may run concurrently).
      BackgroundSync(lock);
    }
  }
}

}  // namespace ragkv::persistence
