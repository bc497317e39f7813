// In-memory FileSystem with a power-loss model; see the header for the model.
//
// Chosen approach: a pure in-memory tree rather than a wrapper over the real
// disk (leveldb's fault_injection_test wraps PosixEnv and truncates files on
// "reset"). In memory, tests need no temp directories, run in microseconds
// (so they can crash at every byte offset), and can model what a wrapper
// cannot: fsyncgate's lost pages and zero-filled extents.
#include "persistence/fault_injecting_file_system.h"

#include <algorithm>

namespace ragkv::persistence {

class FaultInjectingFileSystem::File final : public WritableFile {
 public:
  File(FaultInjectingFileSystem* fs, std::string path, std::shared_ptr<Node> node, uint64_t gen)
      : fs_(fs), path_(std::move(path)), node_(std::move(node)), gen_(gen) {}

  Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    RAGKV_RETURN_IF_ERROR(CheckLive());
    RAGKV_RETURN_IF_ERROR(fs_->BeginMutation());
    if (fs_->fail_appends_ > 0) {
      --fs_->fail_appends_;
      return Status::IOError("write " + path_ + ": Input/output error (injected)");
    }
    const uint64_t used = fs_->UsedBytes();
    const uint64_t room = fs_->capacity_ > used ? fs_->capacity_ - used : 0;
    if (data.size() > room) {
      node_->data.append(data.substr(0, room));
      return Status::ResourceExhausted("write " + path_ + ": No space left on device (injected)");
    }
    node_->data.append(data);
    return Status::Ok();
  }

  Status Sync() override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    RAGKV_RETURN_IF_ERROR(CheckLive());
    RAGKV_RETURN_IF_ERROR(fs_->BeginMutation());
    if (fs_->fail_syncs_ > 0) {
      --fs_->fail_syncs_;
      node_->dirty_from = node_->data.size();  // fsyncgate: pages marked clean, never written
      return Status::IOError("fdatasync " + path_ + ": Input/output error (injected)");
    }
    SyncNode(*node_);
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    RAGKV_RETURN_IF_ERROR(CheckLive());
    RAGKV_RETURN_IF_ERROR(fs_->BeginMutation());
    node_->data.resize(std::min<uint64_t>(size, node_->data.size()), '\0');
    if (size > node_->data.size()) node_->data.resize(size, '\0');
    node_->dirty_from = std::min<uint64_t>(node_->dirty_from, size);
    return Status::Ok();
  }

  Status Close() override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    closed_ = true;
    return Status::Ok();
  }

  uint64_t size() const override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    return node_->data.size();
  }

 private:
  Status CheckLive() const {
    if (closed_) return Status::IOError(path_ + ": file is closed");
    if (gen_ != fs_->generation_) return Status::IOError(path_ + ": handle from before power loss");
    return Status::Ok();
  }

  FaultInjectingFileSystem* fs_;
  std::string path_;
  std::shared_ptr<Node> node_;
  uint64_t gen_;
  bool closed_ = false;
};

class FaultInjectingFileSystem::Reader final : public SequentialFile {
 public:
  explicit Reader(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(char* scratch, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::copy_n(data_.data() + pos_, k, scratch);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

class FaultInjectingFileSystem::Lock final : public FileLock {
 public:
  Lock(FaultInjectingFileSystem* fs, std::string path, uint64_t gen)
      : fs_(fs), path_(std::move(path)), gen_(gen) {}
  ~Lock() override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (gen_ == fs_->generation_) fs_->locks_.erase(path_);
  }

 private:
  FaultInjectingFileSystem* fs_;
  std::string path_;
  uint64_t gen_;
};

FaultInjectingFileSystem::FaultInjectingFileSystem(uint64_t seed) : rng_(seed) {
  dirs_.insert(".");
  dirs_.insert("/");
}

FaultInjectingFileSystem::~FaultInjectingFileSystem() = default;

Status FaultInjectingFileSystem::BeginMutation() {
  if (ops_until_crash_ == 0) return Status::IOError("simulated crash: the process is gone");
  if (ops_until_crash_ > 0) --ops_until_crash_;
  ++mutations_;
  return Status::Ok();
}

uint64_t FaultInjectingFileSystem::UsedBytes() const {
  uint64_t used = 0;
  for (const auto& [path, node] : live_) used += node->data.size();
  return used;
}

void FaultInjectingFileSystem::SyncNode(Node& node) {
  std::string d = node.durable.substr(0, std::min<uint64_t>(node.dirty_from, node.durable.size()));
  // Bytes below dirty_from that the disk never got (a fsync failed on them)
  // read back as a hole of zeros.
  if (d.size() < node.dirty_from) d.resize(node.dirty_from, '\0');
  d.append(node.data, node.dirty_from, std::string::npos);
  node.durable = std::move(d);
  node.dirty_from = node.data.size();
}

Result<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::Open(const std::string& path,
                                                                     bool truncate) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!dirs_.count(DirName(path))) {
    return Status::NotFound("open " + path + ": No such file or directory");
  }
  auto it = live_.find(path);
  if (it == live_.end() || truncate) {
    RAGKV_RETURN_IF_ERROR(BeginMutation());
  }
  std::shared_ptr<Node> node;
  if (it == live_.end()) {
    node = std::make_shared<Node>();
    live_[path] = node;
  } else {
    node = it->second;
    if (truncate) {
      node->data.clear();
      node->dirty_from = 0;
    }
  }
  return std::unique_ptr<WritableFile>(new File(this, path, node, generation_));
}

Result<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::NewWritableFile(
    const std::string& path) {
  return Open(path, /*truncate=*/true);
}

Result<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::NewAppendableFile(
    const std::string& path) {
  return Open(path, /*truncate=*/false);
}

Result<std::unique_ptr<SequentialFile>> FaultInjectingFileSystem::NewSequentialFile(
    const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(path);
  if (it == live_.end()) return Status::NotFound("open " + path + ": No such file or directory");
  return std::unique_ptr<SequentialFile>(new Reader(it->second->data));
}

bool FaultInjectingFileSystem::Exists(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  return live_.count(path) > 0 || dirs_.count(path) > 0;
}

Result<uint64_t> FaultInjectingFileSystem::FileSize(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(path);
  if (it == live_.end()) return Status::NotFound("stat " + path + ": No such file or directory");
  return static_cast<uint64_t>(it->second->data.size());
}

Result<std::vector<std::string>> FaultInjectingFileSystem::ListDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!dirs_.count(dir)) return Status::NotFound("opendir " + dir + ": No such file or directory");
  std::vector<std::string> names;
  for (const auto& [path, node] : live_) {
    if (DirName(path) == dir) names.push_back(BaseName(path));
  }
  for (const auto& d : dirs_) {
    if (d != dir && d != "." && d != "/" && DirName(d) == dir) names.push_back(BaseName(d));
  }
  return names;
}

Status FaultInjectingFileSystem::CreateDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  if (dirs_.count(dir)) return Status::Ok();
  RAGKV_RETURN_IF_ERROR(BeginMutation());
  if (!dirs_.count(DirName(dir)))
    return Status::NotFound("mkdir " + dir + ": No such file or directory");
  dirs_.insert(dir);
  return Status::Ok();
}

Status FaultInjectingFileSystem::Remove(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  RAGKV_RETURN_IF_ERROR(BeginMutation());
  if (live_.erase(path) == 0) return Status::NotFound("unlink " + path + ": No such file");
  return Status::Ok();
}

Status FaultInjectingFileSystem::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  RAGKV_RETURN_IF_ERROR(BeginMutation());
  auto it = live_.find(from);
  if (it == live_.end()) return Status::NotFound("rename " + from + ": No such file");
  if (!dirs_.count(DirName(to))) return Status::NotFound("rename to " + to + ": No such directory");
  auto node = it->second;
  live_.erase(it);
  live_[to] = std::move(node);
  return Status::Ok();
}

Status FaultInjectingFileSystem::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  RAGKV_RETURN_IF_ERROR(BeginMutation());
  auto it = live_.find(path);
  if (it == live_.end()) return Status::NotFound("truncate " + path + ": No such file");
  Node& node = *it->second;
  node.data.resize(size, '\0');
  node.dirty_from = std::min<uint64_t>(node.dirty_from, size);
  return Status::Ok();
}

Status FaultInjectingFileSystem::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  RAGKV_RETURN_IF_ERROR(BeginMutation());
  if (fail_syncs_ > 0) {
    --fail_syncs_;
    return Status::IOError("fsync dir " + dir + ": Input/output error (injected)");
  }
  for (auto it = durable_.begin(); it != durable_.end();) {
    it = DirName(it->first) == dir ? durable_.erase(it) : std::next(it);
  }
  for (const auto& [path, node] : live_) {
    if (DirName(path) == dir) durable_[path] = node;
  }
  return Status::Ok();
}

Result<std::unique_ptr<FileLock>> FaultInjectingFileSystem::LockFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!locks_.insert(path).second) {
    return Status::FailedPrecondition("lock " + path + " is held by another process");
  }
  return std::unique_ptr<FileLock>(new Lock(this, path, generation_));
}

void FaultInjectingFileSystem::PowerLoss(PowerLossMode mode) {
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_;
  locks_.clear();
  fail_syncs_ = 0;
  fail_appends_ = 0;
  ops_until_crash_ = -1;
  std::map<std::string, std::shared_ptr<Node>> survivors;
  std::set<Node*> done;  // a node may be reachable under two names
  for (const auto& [path, node] : durable_) {
    survivors[path] = node;
    if (!done.insert(node.get()).second) continue;
    Node& n = *node;
    std::string next = n.durable;
    const uint64_t dsize = n.durable.size();
    // Only an appended tail (dirty range starting at or past the disk's end)
    // is torn or zeroed; anything else simply reverts to the disk's content.
    if (n.data.size() > dsize && n.dirty_from >= dsize && mode != PowerLossMode::kDropUnsynced) {
      uint64_t keep_to = n.data.size();
      if (mode == PowerLossMode::kTearUnsynced) {
        keep_to = dsize + rng_() % (n.data.size() - dsize + 1);
      }
      for (uint64_t i = dsize; i < keep_to; ++i) {
        const bool written = mode == PowerLossMode::kTearUnsynced && i >= n.dirty_from;
        next.push_back(written ? n.data[i] : '\0');
      }
    }
    n.data = next;
    n.durable = std::move(next);
    n.dirty_from = n.data.size();
  }
  live_ = survivors;
  durable_ = std::move(survivors);
}

void FaultInjectingFileSystem::SetCapacity(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  capacity_ = bytes;
}

void FaultInjectingFileSystem::FailNextSyncs(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_syncs_ = n;
}

void FaultInjectingFileSystem::FailNextAppends(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_appends_ = n;
}

void FaultInjectingFileSystem::CrashAfterOps(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  ops_until_crash_ = n;
}

uint64_t FaultInjectingFileSystem::mutation_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mutations_;
}

std::string FaultInjectingFileSystem::Contents(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(path);
  return it == live_.end() ? std::string() : it->second->data;
}

void FaultInjectingFileSystem::SetContents(const std::string& path, const std::string& data) {
  std::lock_guard<std::mutex> lock(mu_);
  auto node = std::make_shared<Node>();
  node->data = data;
  node->durable = data;
  node->dirty_from = data.size();
  live_[path] = node;
  durable_[path] = node;
}

void FaultInjectingFileSystem::FlipBit(const std::string& path, uint64_t offset, int bit) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(path);
  if (it == live_.end()) return;
  Node& n = *it->second;
  const char mask = static_cast<char>(1 << bit);
  if (offset < n.data.size()) n.data[offset] ^= mask;
  if (offset < n.durable.size()) n.durable[offset] ^= mask;
}

}  // namespace ragkv::persistence
