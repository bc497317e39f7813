// Process-wide count of bytes allocated through operator new (Redis's
// zmalloc used_memory). memory_usage.cc replaces the global operator
// new/delete family; the count uses malloc_usable_size, so it is what the
// allocator really handed out.
#pragma once

#include <cstdint>

namespace ragkv::server {

int64_t AllocatedBytes();

}  // namespace ragkv::server
