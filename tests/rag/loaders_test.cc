#include "rag/loaders.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rag/test_util.h"

namespace ragkv::rag {
namespace {

using ::testing::HasSubstr;

TEST(LoadersTest, KindFromExtension) {
  EXPECT_EQ(KindFromPath("/a/b/readme"), FileKind::kText);
  EXPECT_EQ(KindFromPath("notes.TXT"), FileKind::kText);
  EXPECT_EQ(KindFromPath("x.md"), FileKind::kMarkdown);
  EXPECT_EQ(KindFromPath("x.HTM"), FileKind::kHtml);
  EXPECT_EQ(KindFromPath("x.pdf"), FileKind::kPdf);
  EXPECT_EQ(KindFromPath("x.png"), FileKind::kUnsupported);
  EXPECT_EQ(KindFromPath("/dir.d/.bashrc"), FileKind::kText);
}

TEST(LoadersTest, PlainTextTakesFirstLineAsTitle) {
  auto doc = LoadText("\xEF\xBB\xBFhash coding\n\n   A scheme for rapid access.\n");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->title, "hash coding");
  ASSERT_EQ(doc->sections.size(), 1u);
  EXPECT_THAT(doc->sections[0].text, HasSubstr("rapid access"));
  EXPECT_EQ(doc->sections[0].offset, 3u);  // after the BOM
}

TEST(LoadersTest, BadTextIsSkippedWithAReason) {
  EXPECT_EQ(LoadDocument("a.txt", "").status().message(), "empty file");
  EXPECT_EQ(LoadDocument("a.txt", " \n\t\n").status().message(), "empty file");
  EXPECT_EQ(LoadDocument("a.txt", std::string("ab\0cd", 5)).status().message(), "binary file");
  EXPECT_EQ(LoadDocument("a.txt", "caf\xe9 au lait").status().message(),
            "not valid UTF-8 at byte 3");
  EXPECT_EQ(LoadDocument("a.png", "x").status().message(), "unsupported file type .png");
  std::string huge(kMaxFileBytes + 1, 'a');
  EXPECT_THAT(std::string(LoadDocument("a.txt", huge).status().message()),
              HasSubstr("file too large"));
}

TEST(LoadersTest, MarkdownBuildsHeadingPathsAndKeepsCodeFences) {
  const char* md =
      "# Guide\n"
      "Intro text.\n"
      "## Install\n"
      "Run it.\n"
      "```\n"
      "# not a heading\n"
      "```\n"
      "Setext Title\n"
      "------------\n"
      "Under setext.\n"
      "### Deep ###\n"
      "Deep text.\n";
  auto doc = LoadMarkdown(md);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->title, "Guide");
  ASSERT_EQ(doc->sections.size(), 4u);
  EXPECT_EQ(doc->sections[0].heading, "Guide");
  EXPECT_EQ(doc->sections[1].heading, "Guide > Install");
  EXPECT_THAT(doc->sections[1].text, HasSubstr("# not a heading"));
  EXPECT_EQ(doc->sections[2].heading, "Guide > Setext Title");
  EXPECT_EQ(doc->sections[2].text, "Under setext.\n");
  EXPECT_EQ(doc->sections[3].heading, "Guide > Setext Title > Deep");
  // Offsets point at the heading line in the source.
  EXPECT_EQ(std::string_view(md).substr(doc->sections[1].offset, 10), "## Install");
}

TEST(LoadersTest, HtmlDropsScriptsStylesAndChromeAndKeepsHeadings) {
  const char* html =
      "<html><head><title>Manual</title><style>p{color:red}</style></head><body>"
      "<div class=\"navheader\">Prev Up Next</div>"
      "<script>var secret = 1;</script>"
      "<h1>Replication</h1><p>Copies  of\n data on <b>several</b> servers.</p>"
      "<h2>Streaming</h2><p>WAL records are shipped.</p><pre>a\n  b</pre>"
      "<footer>Copyright</footer></body></html>";
  auto doc = LoadHtml(html);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->title, "Manual");
  ASSERT_EQ(doc->sections.size(), 2u);
  EXPECT_EQ(doc->sections[0].heading, "Replication");
  EXPECT_EQ(doc->sections[0].text, "Copies of data on several servers.");
  EXPECT_EQ(doc->sections[1].heading, "Replication > Streaming");
  EXPECT_THAT(doc->sections[1].text, HasSubstr("a\n  b"));
  for (const Section& s : doc->sections) {
    EXPECT_THAT(s.text, ::testing::Not(HasSubstr("secret")));
    EXPECT_THAT(s.text, ::testing::Not(HasSubstr("Prev Up")));
    EXPECT_THAT(s.text, ::testing::Not(HasSubstr("Copyright")));
    EXPECT_THAT(s.text, ::testing::Not(HasSubstr("color")));
  }
}

TEST(LoadersTest, HtmlWithoutBodyTextIsSkipped) {
  EXPECT_EQ(LoadHtml("<html><head><title>x</title></head></html>").status().message(),
            "HTML has no body text");
  EXPECT_EQ(LoadHtml("<script>only()</script>").status().message(), "HTML has no body text");
  // Broken markup still parses the way browsers do.
  auto doc = LoadHtml("<p>unclosed <b>bold <i>text");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->sections[0].text, "unclosed bold text");
}

TEST(LoadersTest, PdfPagesAreSectionsWithPageNumbers) {
  auto doc = LoadPdf(testing::MakePdf("Replication keeps copies"));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->sections.size(), 1u);
  EXPECT_EQ(doc->sections[0].page, 1u);
  EXPECT_THAT(doc->sections[0].text, HasSubstr("Replication keeps copies"));
}

TEST(LoadersTest, BrokenPdfsAreSkippedNotFatal) {
  std::string pdf = testing::MakePdf("Some text here");
  EXPECT_THAT(std::string(LoadPdf("not a pdf").status().message()), HasSubstr("broken PDF"));
  EXPECT_EQ(LoadPdf("").status().message(), "empty file");
  // Truncated at every tenth byte: never a crash, either skipped or (when
  // poppler can reconstruct the page) some text.
  for (size_t cut = 0; cut < pdf.size(); cut += 10) {
    auto r = LoadPdf(pdf.substr(0, cut));
    if (!r.ok()) {
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  EXPECT_FALSE(LoadPdf(pdf.substr(0, pdf.size() / 3)).ok());
}

}  // namespace
}  // namespace ragkv::rag
