// EngineTest: an in-process Engine with a fake clock and one session;
// Run({"SET", "k", "v"}) executes through Engine::Execute (the path a
// connection uses) and returns the decoded reply.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/reply_parser.h"
#include "protocol/reply_writer.h"
#include "server/engine.h"
#include "util/resp_matchers.h"

namespace ragkv::server {

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() {
    engine_.set_clock([this] { return now_ms_; });
    engine_.OpenSession(session_);
  }
  ~EngineTest() override { engine_.CloseSession(session_); }

  resp::RespValue Run(const std::vector<std::string>& argv) { return RunAs(session_, argv); }

  resp::RespValue RunAs(Session& s, const std::vector<std::string>& argv) {
    std::string out;
    resp::ReplyWriter writer(&out, s.resp);
    engine_.Execute(s, argv, writer);
    resp::RespValue v;
    auto r = resp::ParseReply(out, &v);
    EXPECT_EQ(r.status, resp::ParseStatus::kComplete) << "incomplete reply: " << out;
    EXPECT_EQ(r.consumed, out.size()) << "more than one reply: " << out;
    return v;
  }

  void Advance(int64_t ms) { now_ms_ += ms; }

  int64_t now_ms_ = 1700000000000;
  Engine engine_;
  Session session_;
};

}  // namespace ragkv::server
