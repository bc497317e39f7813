#include "index/text/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ragkv::text {
namespace {

using ::testing::ElementsAre;

TEST(TokenizerTest, SplitsLowercasesStemsAndDropsStopWords) {
  Tokenizer tok;
  EXPECT_THAT(tok.Tokenize("The Databases are REPLICATING data, quickly!"),
              ElementsAre("databas", "replic", "data", "quick"));
}

TEST(TokenizerTest, WithoutStemmingKeepsWords) {
  Tokenizer tok({.stem = false, .drop_stop_words = false});
  EXPECT_THAT(tok.Tokenize("Hash-table's keys"), ElementsAre("hash", "table", "s", "keys"));
}

TEST(TokenizerTest, UnicodeLettersAreWordsAndAreLowercased) {
  Tokenizer tok({.stem = false, .drop_stop_words = false});
  EXPECT_THAT(tok.Tokenize("GÖDEL’s Über ΑΒΓ Привет — x²"),
              ElementsAre("gödel", "s", "über", "αβγ", "привет", "x"));
}

TEST(TokenizerTest, InvalidUtf8BytesSeparateWords) {
  Tokenizer tok({.stem = false, .drop_stop_words = false});
  std::string bad =
      "abc\xff"
      "def\xc3"
      "ghi\xe2\x82";
  EXPECT_THAT(tok.Tokenize(bad), ElementsAre("abc", "def", "ghi"));
  // Overlong encoding of '/' and a lone surrogate are rejected too.
  EXPECT_THAT(tok.Tokenize("a\xc0\xaf"
                           "b\xed\xa0\x80"
                           "c"),
              ElementsAre("a", "b", "c"));
}

TEST(TokenizerTest, EmptyAndSeparatorOnlyInput) {
  Tokenizer tok;
  EXPECT_TRUE(tok.Tokenize("").empty());
  EXPECT_TRUE(tok.Tokenize("  ,.;-- \n\t").empty());
}

TEST(TokenizerTest, OverlongTokensAreDropped) {
  Tokenizer tok({.stem = false, .drop_stop_words = false, .max_token_bytes = 4});
  EXPECT_THAT(tok.Tokenize("abcd abcde"), ElementsAre("abcd"));
}

TEST(Utf8Test, RoundTripsEveryPlane) {
  for (uint32_t cp : {0x41u, 0xE9u, 0x20ACu, 0x1F600u, 0x10FFFFu}) {
    std::string s;
    AppendUtf8(cp, &s);
    size_t pos = 0;
    EXPECT_EQ(DecodeUtf8(s, &pos), cp);
    EXPECT_EQ(pos, s.size());
  }
}

}  // namespace
}  // namespace ragkv::text
