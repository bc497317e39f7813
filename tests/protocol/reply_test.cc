#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "protocol/reply_parser.h"
#include "protocol/reply_writer.h"
#include "protocol/resp_client.h"

namespace ragkv::resp {
namespace {

std::string Write(int protocol, const std::function<void(ReplyWriter&)>& fn) {
  std::string out;
  ReplyWriter w(&out, protocol);
  fn(w);
  return out;
}

TEST(ReplyWriterTest, Resp2Downgrades) {
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.Null(); }), "$-1\r\n");
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.NullArray(); }), "*-1\r\n");
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.MapHeader(2); }), "*4\r\n");
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.SetHeader(3); }), "*3\r\n");
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.Double(1.5); }), "$3\r\n1.5\r\n");
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.Bool(true); }), ":1\r\n");
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.Verbatim("txt", "hi"); }), "$2\r\nhi\r\n");
}

TEST(ReplyWriterTest, Resp3Types) {
  EXPECT_EQ(Write(3, [](ReplyWriter& w) { w.Null(); }), "_\r\n");
  EXPECT_EQ(Write(3, [](ReplyWriter& w) { w.MapHeader(2); }), "%2\r\n");
  EXPECT_EQ(Write(3, [](ReplyWriter& w) { w.SetHeader(3); }), "~3\r\n");
  EXPECT_EQ(Write(3, [](ReplyWriter& w) { w.PushHeader(1); }), ">1\r\n");
  EXPECT_EQ(Write(3, [](ReplyWriter& w) { w.Double(-std::numeric_limits<double>::infinity()); }),
            ",-inf\r\n");
  EXPECT_EQ(Write(3, [](ReplyWriter& w) { w.Bool(false); }), "#f\r\n");
  EXPECT_EQ(Write(3, [](ReplyWriter& w) { w.Verbatim("txt", "hi"); }), "=6\r\ntxt:hi\r\n");
  EXPECT_EQ(Write(3, [](ReplyWriter& w) { w.BigNumber("123"); }), "(123\r\n");
}

TEST(ReplyWriterTest, ErrorsCannotInjectLines) {
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.Error("ERR a\r\nb"); }), "-ERR a  b\r\n");
}

TEST(FormatDoubleTest, MatchesRedisSeventeenDigits) {
  EXPECT_EQ(FormatDouble(1.1), "1.1000000000000001");
  EXPECT_EQ(FormatDouble(3), "3");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::infinity()), "inf");
}

// Everything the writer produces, the reply parser decodes to the same tree,
// whole and from every prefix (which must say "need more").
TEST(ReplyParserTest, RoundTripsWriterOutputAtEverySplit) {
  for (int protocol : {2, 3}) {
    std::string wire = Write(protocol, [](ReplyWriter& w) {
      w.ArrayHeader(9);
      w.SimpleString("OK");
      w.Error("ERR boom");
      w.Integer(-42);
      w.Bulk(std::string("a\0b", 3));
      w.Null();
      w.MapHeader(1);
      w.Bulk("k");
      w.Double(2.5);
      w.SetHeader(2);
      w.Integer(1);
      w.Integer(2);
      w.Bool(true);
      w.Verbatim("txt", "v");
    });
    RespValue v;
    ReplyParseResult r = ParseReply(wire, &v);
    ASSERT_EQ(r.status, ParseStatus::kComplete);
    EXPECT_EQ(r.consumed, wire.size());
    ASSERT_EQ(v.elements.size(), 9u);
    EXPECT_EQ(v.elements[0].str, "OK");
    EXPECT_TRUE(v.elements[1].is_error());
    EXPECT_EQ(v.elements[2].integer, -42);
    EXPECT_EQ(v.elements[3].str, std::string("a\0b", 3));
    EXPECT_TRUE(v.elements[4].is_null());
    if (protocol == 3) {
      EXPECT_EQ(v.elements[5].type, RespType::kMap);
      EXPECT_EQ(v.elements[5].elements[1].number, 2.5);
      EXPECT_EQ(v.elements[6].type, RespType::kSet);
      EXPECT_EQ(v.elements[7].type, RespType::kBoolean);
      EXPECT_EQ(v.elements[8].type, RespType::kVerbatim);
    } else {
      EXPECT_EQ(v.elements[5].type, RespType::kArray);
      EXPECT_EQ(v.elements[5].elements[1].str, "2.5");
    }
    EXPECT_EQ(v.elements[8].str, "v");
    for (size_t cut = 0; cut < wire.size(); ++cut) {
      RespValue partial;
      EXPECT_EQ(ParseReply(std::string_view(wire).substr(0, cut), &partial).status,
                ParseStatus::kNeedMore)
          << "protocol " << protocol << " cut " << cut;
    }
  }
}

TEST(ReplyParserTest, RejectsGarbageWithoutAllocating) {
  RespValue v;
  EXPECT_EQ(ParseReply("*9999999999999\r\n", &v).status, ParseStatus::kError);
  EXPECT_EQ(ParseReply("*2000000000\r\n:1\r\n", &v).status, ParseStatus::kNeedMore);
  EXPECT_EQ(ParseReply("$-5\r\n", &v).status, ParseStatus::kError);
  EXPECT_EQ(ParseReply("?x\r\n", &v).status, ParseStatus::kError);
  EXPECT_EQ(ParseReply(":12a\r\n", &v).status, ParseStatus::kError);
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  EXPECT_EQ(ParseReply(deep, &v).status, ParseStatus::kError);
}

TEST(EncodeCommandTest, EncodesArrayOfBulks) {
  EXPECT_EQ(EncodeCommand({"GET", "k"}), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

}  // namespace
}  // namespace ragkv::resp
