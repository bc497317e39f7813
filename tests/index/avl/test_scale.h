// How much randomized work the AVL tests do: millions of operations in an
// optimised build, a small fraction under sanitizers or without optimisation
// so the ASan+UBSan run stays well under 20 seconds.
#pragma once

#include <cstddef>

namespace ragkv::avl::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr size_t kScaleDivisor = 4;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
inline constexpr size_t kScaleDivisor = 4;
#else
inline constexpr size_t kScaleDivisor = 1;
#endif
#elif !defined(NDEBUG)
inline constexpr size_t kScaleDivisor = 10;
#else
inline constexpr size_t kScaleDivisor = 1;
#endif

// Scales an operation count meant for an optimised build.
constexpr size_t Scaled(size_t ops) { return ops / kScaleDivisor > 0 ? ops / kScaleDivisor : 1; }

}  // namespace ragkv::avl::testing
