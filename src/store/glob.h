// Glob-style matching with Redis's stringmatchlen semantics: * ? [abc] [^a]
// [a-z] and \x escapes; binary safe. Used by KEYS, SCAN MATCH, HSCAN MATCH,
// CONFIG GET. Recursion on '*' is bounded (a pattern of many stars cannot blow
// the stack or take exponential time: Redis's "skip longer" fix).
#pragma once

#include <string_view>

namespace ragkv::store {

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace ragkv::store
