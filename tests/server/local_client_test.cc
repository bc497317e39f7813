#include "server/local_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/resp_matchers.h"

namespace ragkv::server {
namespace {

using namespace ::ragkv::testing;  // NOLINT(build/namespaces): matchers

TEST(LocalClientTest, RunsCommandsWithItsOwnSession) {
  Engine engine;
  engine.config().requirepass = "secret";  // in-process clients are trusted
  LocalClient a(&engine), b(&engine, /*protocol=*/3);
  EXPECT_THAT(*a.Command({"SET", "k", "v"}), IsOk());
  EXPECT_THAT(*b.Command({"GET", "k"}), IsBulk("v"));
  EXPECT_THAT(*a.Command({"SELECT", "1"}), IsOk());
  EXPECT_THAT(*a.Command({"GET", "k"}), IsNull());
  EXPECT_THAT(*b.Command({"GET", "k"}), IsBulk("v"));  // b still in db 0
  EXPECT_THAT(*b.Command({"INCR", "k"}), ErrorStartsWith("ERR value is not an integer"));
  EXPECT_EQ(b.Command({"HGETALL", "nope"})->type, resp::RespType::kMap);
  EXPECT_EQ(engine.connected_clients(), 2);
}

}  // namespace
}  // namespace ragkv::server
