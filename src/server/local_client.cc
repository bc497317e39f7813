#include "server/local_client.h"

#include "protocol/reply_parser.h"
#include "protocol/reply_writer.h"

namespace ragkv::server {

LocalClient::LocalClient(Engine* engine, int protocol) : engine_(engine) {
  engine_->OpenSession(session_);
  session_.resp = protocol;
  session_.authenticated = true;  // in-process callers are trusted
}

LocalClient::~LocalClient() { engine_->CloseSession(session_); }

Result<resp::RespValue> LocalClient::Command(const std::vector<std::string_view>& argv) {
  buffer_.clear();
  resp::ReplyWriter writer(&buffer_, session_.resp);
  engine_->Execute(session_, std::span<const std::string_view>(argv.data(), argv.size()), writer);
  resp::RespValue value;
  resp::ReplyParseResult r = resp::ParseReply(buffer_, &value);
  if (r.status != resp::ParseStatus::kComplete || r.consumed != buffer_.size()) {
    return Status::Internal("engine produced no single complete reply");
  }
  return value;
}

}  // namespace ragkv::server
