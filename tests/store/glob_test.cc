#include "store/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace ragkv::store {
namespace {

struct Case {
  const char* pattern;
  const char* text;
  bool match;
};

TEST(GlobTest, RedisStringMatchSemantics) {
  const Case cases[] = {
      {"*", "", true},          {"*", "anything", true},   {"h?llo", "hello", true},
      {"h?llo", "hllo", false}, {"h*llo", "heeeello", true}, {"h[ae]llo", "hallo", true},
      {"h[ae]llo", "hillo", false}, {"h[^e]llo", "hallo", true}, {"h[^e]llo", "hello", false},
      {"h[a-b]llo", "hbllo", true}, {"h[b-a]llo", "hallo", true}, {"h\\*llo", "h*llo", true},
      {"h\\*llo", "hello", false}, {"key:*", "key:1", true}, {"key:*", "kex:1", false},
      {"a*b*c", "aXXbYYc", true}, {"a*b*c", "aXXbYY", false}, {"[\\]]", "]", true},
      {"abc", "abcd", false},   {"abc*", "abc", true},     {"**", "x", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.text), c.match) << c.pattern << " vs " << c.text;
  }
  EXPECT_TRUE(GlobMatch("HELLO", "hello", /*nocase=*/true));
}

// Patterns with many stars must not take exponential time.
TEST(GlobTest, PathologicalPatternIsFast) {
  std::string pattern;
  for (int i = 0; i < 30; ++i) pattern += "a*";
  pattern += "b";
  EXPECT_FALSE(GlobMatch(pattern, std::string(200, 'a')));
}

TEST(GlobTest, BinarySafe) {
  std::string text("a\0b", 3);
  EXPECT_TRUE(GlobMatch(std::string_view("a?b"), text));
  EXPECT_TRUE(GlobMatch(std::string_view("a\0*", 3), text));
}

}  // namespace
}  // namespace ragkv::store
