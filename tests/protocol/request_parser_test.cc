#include "protocol/request_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ragkv::resp {
namespace {

using ::testing::ElementsAre;

struct Outcome {
  std::vector<std::vector<std::string>> requests;
  ParseStatus last = ParseStatus::kNeedMore;
  std::string error;
};

// Feeds `input` in pieces of the given sizes (the last piece takes the rest),
// parsing after each piece like a connection does after each read.
Outcome Feed(const std::string& input, const std::vector<size_t>& pieces,
             RequestLimits limits = {}) {
  RequestParser parser;
  parser.set_limits(limits);
  Outcome out;
  std::string buffer;
  size_t fed = 0;
  size_t piece = 0;
  while (true) {
    size_t n = piece < pieces.size() ? pieces[piece++] : input.size() - fed;
    n = std::min(n, input.size() - fed);
    buffer.append(input, fed, n);
    fed += n;
    while (true) {
      ParseStatus s = parser.Parse(buffer);
      out.last = s;
      if (s == ParseStatus::kError) {
        out.error = std::string(parser.error());
        return out;
      }
      if (s == ParseStatus::kNeedMore) break;
      std::vector<std::string> args(parser.args().begin(), parser.args().end());
      if (!args.empty()) out.requests.push_back(std::move(args));
      buffer.erase(0, parser.consumed());
      if (buffer.empty()) break;
    }
    if (fed == input.size()) return out;
  }
}

Outcome Whole(const std::string& input, RequestLimits limits = {}) {
  return Feed(input, {}, limits);
}

TEST(RequestParserTest, ParsesMultibulk) {
  Outcome o = Whole("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n");
  ASSERT_EQ(o.requests.size(), 1u);
  EXPECT_THAT(o.requests[0], ElementsAre("SET", "k", "hello"));
}

TEST(RequestParserTest, BinarySafeArguments) {
  std::string payload("a\0b\r\nc", 6);
  std::string input = std::string("*2\r\n$3\r\nGET\r\n$6\r\n").append(payload).append("\r\n");
  Outcome o = Whole(input);
  ASSERT_EQ(o.requests.size(), 1u);
  EXPECT_EQ(o.requests[0][1], payload);
}

TEST(RequestParserTest, ParsesInlineWithQuotes) {
  Outcome o = Whole("SET \"a b\" 'c\\'d' \"\\x41\\n\"\r\nPING\n");
  ASSERT_EQ(o.requests.size(), 2u);
  EXPECT_THAT(o.requests[0], ElementsAre("SET", "a b", "c'd", "A\n"));
  EXPECT_THAT(o.requests[1], ElementsAre("PING"));
}

TEST(RequestParserTest, SkipsEmptyInlineLinesAndZeroCounts) {
  Outcome o = Whole("\r\n*0\r\n*-1\r\nPING\r\n");
  ASSERT_EQ(o.requests.size(), 1u);
  EXPECT_THAT(o.requests[0], ElementsAre("PING"));
}

// The same pipeline, cut at every offset and fed byte by byte, must parse to
// the same requests as when fed whole.
TEST(RequestParserTest, EverySplitPointAndByteByByteMatchWhole) {
  std::string input =
      "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\n"
      "PING\r\n"
      "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"
      "*1\r\n$4\r\nPING\r\n"
      "ECHO \"x y\"\n";
  Outcome whole = Whole(input);
  ASSERT_EQ(whole.requests.size(), 5u);
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    Outcome split = Feed(input, {cut});
    EXPECT_EQ(split.requests, whole.requests) << "cut at " << cut;
  }
  Outcome bytewise = Feed(input, std::vector<size_t>(input.size(), 1));
  EXPECT_EQ(bytewise.requests, whole.requests);
}

TEST(RequestParserTest, RandomPipelinesInRandomPieces) {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::vector<std::string>> expected;
    std::string input;
    int n = 1 + static_cast<int>(rng() % 10);
    for (int r = 0; r < n; ++r) {
      std::vector<std::string> args;
      int argc = 1 + static_cast<int>(rng() % 5);
      input.append("*").append(std::to_string(argc)).append("\r\n");
      for (int a = 0; a < argc; ++a) {
        std::string arg(rng() % 40, '\0');
        for (char& c : arg) c = static_cast<char>(rng() % 256);
        input.append("$").append(std::to_string(arg.size())).append("\r\n");
        input.append(arg).append("\r\n");
        args.push_back(std::move(arg));
      }
      expected.push_back(std::move(args));
    }
    std::vector<size_t> pieces;
    for (size_t total = 0; total < input.size();) {
      size_t p = 1 + rng() % 17;
      pieces.push_back(p);
      total += p;
    }
    Outcome o = Feed(input, pieces);
    EXPECT_EQ(o.requests, expected) << "round " << round;
  }
}

// The malformed inputs of Redis's tests/unit/protocol.tcl, with its replies.
struct Malformed {
  const char* name;
  std::string input;
  const char* error;
};

class MalformedTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedTest, RejectedWithRedisText) {
  const Malformed& m = GetParam();
  Outcome whole = Whole(m.input);
  EXPECT_EQ(whole.last, ParseStatus::kError);
  EXPECT_EQ(whole.error, m.error);
  Outcome bytewise = Feed(m.input, std::vector<size_t>(m.input.size(), 1));
  EXPECT_EQ(bytewise.error, m.error);
}

INSTANTIATE_TEST_SUITE_P(
    ProtocolTcl, MalformedTest,
    ::testing::Values(
        Malformed{"OutOfRangeMultibulk", "*3000000000\r\n", "Protocol error: invalid multibulk length"},
        Malformed{"MultibulkTwoPow31", "*2147483648\r\n", "Protocol error: invalid multibulk length"},
        Malformed{"NonDigitMultibulk", "*3x\r\n", "Protocol error: invalid multibulk length"},
        Malformed{"PlusSignMultibulk", "*+3\r\n", "Protocol error: invalid multibulk length"},
        Malformed{"WrongPayloadHeader", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
                  "Protocol error: expected '$', got 'f'"},
        Malformed{"NegativeBulkLength", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n",
                  "Protocol error: invalid bulk length"},
        Malformed{"OutOfRangeBulkLength", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n",
                  "Protocol error: invalid bulk length"},
        Malformed{"NonNumberBulkLength", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n",
                  "Protocol error: invalid bulk length"},
        Malformed{"NotFollowedByBulk", "*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'"},
        Malformed{"NestedGarbage", "*2\r\n*1\r\n$1\r\na\r\n", "Protocol error: expected '$', got '*'"},
        Malformed{"UnbalancedQuotes", "set \"\"\"test-key\"\"\" test-value\r\n",
                  "Protocol error: unbalanced quotes in request"},
        Malformed{"UnterminatedQuote", "set \"abc\r\n", "Protocol error: unbalanced quotes in request"}),
    [](const ::testing::TestParamInfo<Malformed>& info) { return info.param.name; });

TEST(RequestParserTest, BulkLengthAboveProtoMaxBulkLen) {
  RequestLimits limits;
  limits.max_bulk_len = 100;
  Outcome o = Whole("*1\r\n$101\r\n", limits);
  EXPECT_EQ(o.error, "Protocol error: invalid bulk length");
  o = Whole(std::string("*1\r\n$100\r\n").append(100, 'x').append("\r\n"), limits);
  ASSERT_EQ(o.requests.size(), 1u);
}

TEST(RequestParserTest, HeaderWithoutCrlfIsBounded) {
  Outcome o = Whole(std::string("*").append(70000, '1'));
  EXPECT_EQ(o.error, "Protocol error: too big mbulk count string");
  o = Whole(std::string("*1\r\n$").append(70000, '1'));
  EXPECT_EQ(o.error, "Protocol error: too big bulk count string");
  o = Whole(std::string(70000, 'a'));
  EXPECT_EQ(o.error, "Protocol error: too big inline request");
  // Shorter than the limit: just waiting for more.
  o = Whole("*12");
  EXPECT_EQ(o.last, ParseStatus::kNeedMore);
}

TEST(RequestParserTest, UnauthenticatedClientsLimitedToSmallRequests) {
  RequestLimits limits;
  limits.unauthenticated = true;
  EXPECT_EQ(Whole("*11\r\n", limits).error, "Protocol error: invalid multibulk length");
  EXPECT_EQ(Whole("*1\r\n$16385\r\n", limits).error, "Protocol error: invalid bulk length");
  Outcome ok = Whole("*2\r\n$4\r\nAUTH\r\n$3\r\npwd\r\n", limits);
  ASSERT_EQ(ok.requests.size(), 1u);
}

TEST(RequestParserTest, ErrorResetsStateForReuse) {
  RequestParser parser;
  EXPECT_EQ(parser.Parse("*1\r\n$x\r\n"), ParseStatus::kError);
  EXPECT_EQ(parser.Parse("*1\r\n$4\r\nPING\r\n"), ParseStatus::kComplete);
  EXPECT_THAT(parser.args(), ElementsAre("PING"));
}

// ParseInt64 against a brute-force reference built on std::to_string
// round-tripping (the canonical form is exactly what string2ll accepts).
TEST(ParseInt64Test, AcceptsExactlyCanonicalDecimal) {
  std::mt19937_64 rng(7);
  const char* alphabet = "-+0123456789 x";
  for (int i = 0; i < 100000; ++i) {
    std::string s(1 + rng() % 21, ' ');
    for (char& c : s) c = alphabet[rng() % 14];
    int64_t got = 0;
    bool ok = ParseInt64(s, &got);
    errno = 0;
    char* end = nullptr;
    long long ref = std::strtoll(s.c_str(), &end, 10);
    bool ref_ok = errno == 0 && end == s.c_str() + s.size() && std::to_string(ref) == s;
    ASSERT_EQ(ok, ref_ok) << s;
    if (ok) {
      ASSERT_EQ(got, ref) << s;
    }
  }
  int64_t v;
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_FALSE(ParseInt64("9223372036854775808", &v));
  EXPECT_FALSE(ParseInt64("-0", &v));
  EXPECT_FALSE(ParseInt64("01", &v));
}

}  // namespace
}  // namespace ragkv::resp
