#include "index/text/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

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

// TokenizeWithWords is Tokenize with stemming and Tokenize without it, in one
// pass: checked on mixed text (stop words, over-long runs, Unicode, invalid
// bytes) and with seeded random word soup.
TEST(TokenizerTest, TokenizeWithWordsEqualsBothTokenizers) {
  Tokenizer stem;
  Tokenizer plain({.stem = false});
  std::vector<std::string> texts = {
      "", "The Databases are REPLICATING data, quickly!", "GÖDEL’s Über ΑΒΓ x² running",
      "bad \xff\xfe bytes and " + std::string(80, 'q') + " long", "the of and a"};
  std::mt19937_64 rng(11);
  const std::vector<std::string> vocab = {"Cherry", "cherries", "the", "running", "ran",
                                          "a",      "Indexes",  "x",   "über",    "42",
                                          "--",     " ",        "\n"};
  for (int t = 0; t < 200; ++t) {
    std::string text;
    for (size_t n = rng() % 12; n > 0; --n) text += vocab[rng() % vocab.size()] + " ";
    texts.push_back(text);
  }
  for (const std::string& text : texts) {
    std::vector<std::string> terms = {"kept"}, words = {"kept"};
    stem.TokenizeWithWords(text, &terms, &words);
    std::vector<std::string> want_terms = {"kept"}, want_words = {"kept"};
    stem.Tokenize(text, &want_terms);
    plain.Tokenize(text, &want_words);
    EXPECT_EQ(terms, want_terms) << text;
    EXPECT_EQ(words, want_words) << text;
  }
}

// Past the stem memo's capacity, words are stemmed without memoising; the
// results do not change.
TEST(TokenizerTest, TokenizeWithWordsBeyondTheMemoCapacity) {
  Tokenizer stem;
  std::string text;
  for (int i = 0; i < 70000; ++i) text += "running" + std::to_string(i) + "s the ";
  std::vector<std::string> terms, words;
  stem.TokenizeWithWords(text, &terms, &words);
  stem.TokenizeWithWords(text, &terms, &words);  // second pass: memo full
  std::vector<std::string> want = stem.Tokenize(text);
  std::vector<std::string> twice = want;
  twice.insert(twice.end(), want.begin(), want.end());
  EXPECT_EQ(terms, twice);
  EXPECT_EQ(words.size(), twice.size());
}

// SplitWords (with its ASCII fast path) against the code-point-at-a-time
// definition, on seeded random bytes mixing ASCII, valid multi-byte UTF-8
// and invalid sequences.
TEST(TokenizerTest, SplitWordsMatchesCodePointDefinition) {
  auto reference = [](std::string_view text) {
    std::vector<std::string> out;
    std::string word;
    size_t pos = 0;
    while (pos < text.size()) {
      uint32_t cp = DecodeUtf8(text, &pos);
      if (IsWordCodePoint(cp)) {
        AppendUtf8(ToLowerCodePoint(cp), &word);
      } else if (!word.empty()) {
        out.push_back(std::move(word));
        word.clear();
      }
    }
    if (!word.empty()) out.push_back(std::move(word));
    return out;
  };
  const std::vector<std::string> pieces = {
      "a", "Z", "9", " ",    "-",    std::string(1, '\0'), "É", "ß", "Ω",
      "ж", "—", "€", "\xff", "\xc3", "\xe2\x80",           "😀", "_"};
  std::mt19937_64 rng(5);
  for (int t = 0; t < 2000; ++t) {
    std::string text;
    for (size_t n = rng() % 24; n > 0; --n) text += pieces[rng() % pieces.size()];
    std::vector<std::string> got;
    Tokenizer::SplitWords(text, &got);
    EXPECT_EQ(got, reference(text));
  }
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
