#include "common/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/crc32c.h"
#include "common/result.h"

namespace ragkv {
namespace {

TEST(StatusTest, OkIsCheapAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(sizeof(Status), sizeof(void*));
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = Status::Corruption("bad crc at offset 12");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.ToString(), "Corruption: bad crc at offset 12");
  Status copy = s;
  EXPECT_EQ(copy, s);
  EXPECT_EQ(s.WithPrefix("aof").message(), "aof: bad crc at offset 12");
}

Result<int> ParsePositive(int v) {
  if (v <= 0) return Status::OutOfRange("must be positive");
  return v;
}

Status UseMacros(int v, int* out) {
  RAGKV_ASSIGN_OR_RETURN(*out, ParsePositive(v));
  RAGKV_RETURN_IF_ERROR(Status::Ok());
  return Status::Ok();
}

TEST(ResultTest, ValueOrStatus) {
  Result<int> good = ParsePositive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  Result<int> bad = ParsePositive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(bad.value_or(7), 7);
  int out = 0;
  EXPECT_TRUE(UseMacros(5, &out).ok());
  EXPECT_EQ(out, 5);
  EXPECT_EQ(UseMacros(0, &out).code(), StatusCode::kOutOfRange);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<std::string>> r = std::make_unique<std::string>("x");
  ASSERT_TRUE(r.ok());
  std::unique_ptr<std::string> p = std::move(r).value();
  EXPECT_EQ(*p, "x");
}

TEST(ResultTest, OkStatusWithoutValueBecomesInternal) {
  Result<int> r = Status::Ok();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(Crc32cTest, KnownVectors) {
  // RFC 3720 test vectors.
  EXPECT_EQ(crc32c::Value("123456789"), 0xE3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c::Value(zeros), 0x8A9136AAu);
  std::string ones(32, '\xff');
  EXPECT_EQ(crc32c::Value(ones), 0x62A8AB43u);
  // Extend is incremental.
  EXPECT_EQ(crc32c::Extend(crc32c::Value("1234"), "56789", 5), 0xE3069283u);
}

}  // namespace
}  // namespace ragkv
