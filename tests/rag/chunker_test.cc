#include "rag/chunker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "rag/loaders.h"

namespace ragkv::rag {
namespace {

Document OneSection(std::string text) {
  Document d;
  d.sections.push_back(Section{"H", std::move(text), 0, 100});
  return d;
}

std::vector<std::string> Sentences(std::string_view text) {
  std::vector<std::string> out;
  for (auto [b, e] : SplitSentences(text)) out.emplace_back(text.substr(b, e - b));
  return out;
}

TEST(ChunkerTest, SentenceSplittingRespectsAbbreviationsAndParagraphs) {
  EXPECT_THAT(Sentences("Dr. Smith uses e.g. hashing. It works! Does it? Yes.\n\nNew para"),
              ::testing::ElementsAre("Dr. Smith uses e.g. hashing.", "It works!", "Does it?",
                                     "Yes.", "New para"));
  EXPECT_THAT(Sentences("Version 1.2 is out. (Quoted.) Next"),
              ::testing::ElementsAre("Version 1.2 is out.", "(Quoted.)", "Next"));
  EXPECT_TRUE(Sentences("   \n\n ").empty());
}

TEST(ChunkerTest, TextShorterThanOneChunkIsOneChunk) {
  auto chunks = ChunkDocument(OneSection("Short. Text."), {.chunk_size = 100, .overlap = 10});
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].text, "Short. Text.");
  EXPECT_EQ(chunks[0].heading, "H");
  EXPECT_EQ(chunks[0].offset, 100u);
}

TEST(ChunkerTest, EmptySectionsGiveNoChunks) {
  EXPECT_TRUE(ChunkDocument(OneSection(""), {}).empty());
  EXPECT_TRUE(ChunkDocument(Document{}, {}).empty());
}

TEST(ChunkerTest, TextWithoutSentenceBreaksIsCutAtWhitespace) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "word" + std::to_string(i) + " ";
  auto chunks = ChunkDocument(OneSection(text), {.chunk_size = 64, .overlap = 0});
  ASSERT_GT(chunks.size(), 5u);
  std::string rejoined;
  for (const auto& c : chunks) {
    EXPECT_LE(c.text.size(), 64u);
    EXPECT_NE(c.text.front(), ' ');
    EXPECT_EQ(c.text.find("ord"), c.text.find("word") + 1) << "cut inside a word: " << c.text;
    rejoined += c.text + " ";
  }
  EXPECT_EQ(rejoined, text);
}

TEST(ChunkerTest, MultibyteCharactersAreNeverSplit) {
  // No spaces and no sentence breaks: the only cut points are code points.
  std::string text;
  for (int i = 0; i < 200; ++i) text += (i % 3 == 0) ? "é" : (i % 3 == 1 ? "€" : "😀");
  for (size_t size : {32u, 33u, 34u, 35u, 47u}) {
    auto chunks = ChunkDocument(OneSection(text), {.chunk_size = size, .overlap = 0});
    std::string rejoined;
    for (const auto& c : chunks) {
      EXPECT_LE(c.text.size(), size);
      EXPECT_EQ(FindInvalidUtf8(c.text), std::string::npos) << "size " << size;
      rejoined += c.text;
    }
    EXPECT_EQ(rejoined, text) << "size " << size;
  }
}

TEST(ChunkerTest, ChunksOverlapByWholeSentencesAndCoverEverything) {
  std::mt19937 rng(3);
  std::string text;
  std::vector<std::string> sentences;
  for (int i = 0; i < 60; ++i) {
    std::string s = "Sentence " + std::to_string(i);
    for (unsigned w = rng() % 12; w > 0; --w) s += " filler";
    s += ".";
    sentences.push_back(s);
    text += s + " ";
  }
  auto chunks = ChunkDocument(OneSection(text), {.chunk_size = 200, .overlap = 60});
  ASSERT_GT(chunks.size(), 3u);
  size_t covered = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_LE(chunks[i].text.size(), 200u);
    // Every chunk starts and ends on a sentence boundary.
    EXPECT_EQ(chunks[i].text.rfind("Sentence ", 0), 0u);
    EXPECT_EQ(chunks[i].text.back(), '.');
    if (i > 0) {
      // The start of chunk i lies inside chunk i-1 (overlap) or right after it.
      EXPECT_LE(chunks[i].offset, chunks[i - 1].offset + chunks[i - 1].text.size() + 1);
      EXPECT_GT(chunks[i].offset, chunks[i - 1].offset);
    }
    covered = chunks[i].offset - 100 + chunks[i].text.size();
  }
  EXPECT_EQ(covered, text.size() - 1);  // all but the trailing space
  for (const auto& s : sentences) {
    bool found = false;
    for (const auto& c : chunks) found = found || c.text.find(s) != std::string::npos;
    EXPECT_TRUE(found) << s;
  }
}

TEST(ChunkerTest, ChunksNeverCrossSections) {
  Document d;
  d.sections.push_back(Section{"A", "First section. Has two sentences.", 0, 0});
  d.sections.push_back(Section{"A > B", "Second section.", 2, 50});
  auto chunks = ChunkDocument(d, {.chunk_size = 1000, .overlap = 100});
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[1].heading, "A > B");
  EXPECT_EQ(chunks[1].page, 2u);
  EXPECT_EQ(chunks[1].text, "Second section.");
}

}  // namespace
}  // namespace ragkv::rag
