// Arena: mmap-backed growable buffer (see arena.h for why huge pages).
// Growth maps a new region, copies, and unmaps the old one; callers hold the
// index's writer lock, so no reader sees a stale pointer. mremap was rejected
// to keep the huge-page alignment explicit.
#include "index/vector/arena.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

namespace ragkv::vec::internal {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

bool Arena::HugePagesEnabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("RAGKV_VEC_HUGEPAGES");
    return env == nullptr || std::string_view(env) != "0";
  }();
  return enabled;
}

Arena::~Arena() { Release(); }

Arena::Arena(Arena&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), capacity_(std::exchange(other.capacity_, 0)) {}

Arena& Arena::operator=(Arena&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void Arena::Release() {
  if (data_ != nullptr) munmap(data_, capacity_);
  data_ = nullptr;
  capacity_ = 0;
}

bool Arena::Reserve(size_t bytes) {
  if (bytes <= capacity_) return true;
  size_t want = capacity_ == 0 ? bytes : capacity_ * 2;
  if (want < bytes) want = bytes;
  want = RoundUp(want, want >= kHugePage ? kHugePage : 4096);
  void* p = nullptr;
  if (want >= kHugePage) {
    // Map one huge page extra and trim, so the region starts on a 2 MiB
    // boundary and every page of it can be a huge page.
    void* raw = mmap(nullptr, want + kHugePage, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return false;
    const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = RoundUp(start, kHugePage);
    if (aligned > start) munmap(raw, aligned - start);
    const size_t tail = (start + want + kHugePage) - (aligned + want);
    if (tail > 0) munmap(reinterpret_cast<void*>(aligned + want), tail);
    p = reinterpret_cast<void*>(aligned);
  } else {
    p = mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
  }
  if (want >= kHugePage && HugePagesEnabled()) madvise(p, want, MADV_HUGEPAGE);
  if (data_ != nullptr) std::memcpy(p, data_, capacity_);
  Release();
  data_ = static_cast<uint8_t*>(p);
  capacity_ = want;
  return true;
}

}  // namespace ragkv::vec::internal
