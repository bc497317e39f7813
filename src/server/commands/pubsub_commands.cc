// Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB.
// Subscription state lives in the engine's PubSub (two indexes: name ->
// subscribers, session -> names); delivery appends a ready-made RESP message
// to each subscriber's output through Engine::io. A message is encoded once
// per protocol version, not once per subscriber.
#include <algorithm>

#include "server/commands/command_util.h"
#include "server/engine.h"
#include "server/errors.h"
#include "server/pubsub.h"
#include "store/glob.h"

namespace ragkv::server {

bool PubSub::Add(Index& index, Session& session, std::string_view name) {
  auto it = index.find(std::string(name));
  if (it == index.end()) it = index.emplace(std::string(name), std::vector<Session*>{}).first;
  auto& v = it->second;
  if (std::find(v.begin(), v.end(), &session) != v.end()) return false;
  v.push_back(&session);
  return true;
}

bool PubSub::Remove(Index& index, Session& session, std::string_view name) {
  auto it = index.find(std::string(name));
  if (it == index.end()) return false;
  auto& v = it->second;
  auto pos = std::find(v.begin(), v.end(), &session);
  if (pos == v.end()) return false;
  v.erase(pos);
  if (v.empty()) index.erase(it);
  return true;
}

namespace {

void SetKind(Session& s) {
  if (s.subscriptions > 0 && s.kind == ClientKind::kNormal) s.kind = ClientKind::kPubSub;
  if (s.subscriptions == 0 && s.kind == ClientKind::kPubSub) s.kind = ClientKind::kNormal;
}

void EraseName(std::vector<std::string>& names, std::string_view name) {
  auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) names.erase(it);
}

}  // namespace

bool PubSub::Subscribe(Session& s, std::string_view channel) {
  if (!Add(channels_, s, channel)) return false;
  session_channels_[s.id].emplace_back(channel);
  ++s.subscriptions;
  SetKind(s);
  return true;
}

bool PubSub::PSubscribe(Session& s, std::string_view pattern) {
  if (!Add(patterns_, s, pattern)) return false;
  session_patterns_[s.id].emplace_back(pattern);
  ++s.subscriptions;
  SetKind(s);
  return true;
}

bool PubSub::Unsubscribe(Session& s, std::string_view channel) {
  if (!Remove(channels_, s, channel)) return false;
  EraseName(session_channels_[s.id], channel);
  --s.subscriptions;
  SetKind(s);
  return true;
}

bool PubSub::PUnsubscribe(Session& s, std::string_view pattern) {
  if (!Remove(patterns_, s, pattern)) return false;
  EraseName(session_patterns_[s.id], pattern);
  --s.subscriptions;
  SetKind(s);
  return true;
}

std::vector<std::string> PubSub::ChannelsOf(const Session& s) const {
  auto it = session_channels_.find(s.id);
  return it == session_channels_.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> PubSub::PatternsOf(const Session& s) const {
  auto it = session_patterns_.find(s.id);
  return it == session_patterns_.end() ? std::vector<std::string>{} : it->second;
}

void PubSub::RemoveSession(Session& s) {
  for (const std::string& c : ChannelsOf(s)) Remove(channels_, s, c);
  for (const std::string& p : PatternsOf(s)) Remove(patterns_, s, p);
  session_channels_.erase(s.id);
  session_patterns_.erase(s.id);
  s.subscriptions = 0;
  SetKind(s);
}

int64_t PubSub::Publish(Engine& engine, std::string_view channel, std::string_view message) {
  std::string encoded[2];  // RESP2, RESP3
  auto message_for = [&](int resp) -> const std::string& {
    std::string& m = encoded[resp == 3 ? 1 : 0];
    if (m.empty()) {
      resp::ReplyWriter w(&m, resp);
      w.PushHeader(3);
      w.Bulk("message");
      w.Bulk(channel);
      w.Bulk(message);
    }
    return m;
  };
  int64_t receivers = 0;
  auto it = channels_.find(std::string(channel));
  if (it != channels_.end()) {
    for (Session* s : it->second) {
      if (engine.io != nullptr) engine.io->Send(s->id, message_for(s->resp));
      ++receivers;
    }
  }
  for (const auto& [pattern, sessions] : patterns_) {
    if (!store::GlobMatch(pattern, channel)) continue;
    for (Session* s : sessions) {
      std::string m;
      resp::ReplyWriter w(&m, s->resp);
      w.PushHeader(4);
      w.Bulk("pmessage");
      w.Bulk(pattern);
      w.Bulk(channel);
      w.Bulk(message);
      if (engine.io != nullptr) engine.io->Send(s->id, m);
      ++receivers;
    }
  }
  return receivers;
}

std::vector<std::string> PubSub::ActiveChannels(std::string_view pattern) const {
  std::vector<std::string> out;
  for (const auto& [name, sessions] : channels_) {
    if (pattern.empty() || store::GlobMatch(pattern, name)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

int64_t PubSub::NumSubscribers(std::string_view channel) const {
  auto it = channels_.find(std::string(channel));
  return it == channels_.end() ? 0 : static_cast<int64_t>(it->second.size());
}

bool PubSub::AllowedWhileSubscribed(std::string_view command) {
  return command == "subscribe" || command == "unsubscribe" || command == "psubscribe" ||
         command == "punsubscribe" || command == "ping" || command == "quit" || command == "reset";
}

std::string PubSub::NotAllowedError(std::string_view command) {
  return "ERR Can't execute '" + std::string(command) +
         "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
         "context";
}

namespace {

void Confirm(CommandContext& ctx, std::string_view kind, std::string_view name, bool null_name) {
  ctx.out.PushHeader(3);
  ctx.out.Bulk(kind);
  if (null_name) {
    ctx.out.Null();
  } else {
    ctx.out.Bulk(name);
  }
  ctx.out.Integer(static_cast<int64_t>(ctx.session.subscriptions));
}

void SubscribeCommand(CommandContext& ctx) {
  for (size_t i = 1; i < ctx.argc(); ++i) {
    ctx.engine.pubsub().Subscribe(ctx.session, ctx.arg(i));
    Confirm(ctx, "subscribe", ctx.arg(i), false);
  }
}

void PSubscribeCommand(CommandContext& ctx) {
  for (size_t i = 1; i < ctx.argc(); ++i) {
    ctx.engine.pubsub().PSubscribe(ctx.session, ctx.arg(i));
    Confirm(ctx, "psubscribe", ctx.arg(i), false);
  }
}

template <bool kPattern>
void UnsubscribeCommandT(CommandContext& ctx) {
  PubSub& ps = ctx.engine.pubsub();
  std::string_view kind = kPattern ? "punsubscribe" : "unsubscribe";
  std::vector<std::string> names;
  if (ctx.argc() > 1) {
    names.assign(ctx.argv.begin() + 1, ctx.argv.end());
  } else {
    names = kPattern ? ps.PatternsOf(ctx.session) : ps.ChannelsOf(ctx.session);
  }
  if (names.empty()) {
    Confirm(ctx, kind, "", true);
    return;
  }
  for (const std::string& n : names) {
    if (kPattern) {
      ps.PUnsubscribe(ctx.session, n);
    } else {
      ps.Unsubscribe(ctx.session, n);
    }
    Confirm(ctx, kind, n, false);
  }
}

void PublishCommand(CommandContext& ctx) {
  ctx.out.Integer(ctx.engine.pubsub().Publish(ctx.engine, ctx.arg(1), ctx.arg(2)));
}

void PubSubCommand(CommandContext& ctx) {
  std::string_view sub = ctx.arg(1);
  PubSub& ps = ctx.engine.pubsub();
  if (EqualsIgnoreCase(sub, "CHANNELS") && ctx.argc() <= 3) {
    auto names = ps.ActiveChannels(ctx.argc() == 3 ? ctx.arg(2) : std::string_view());
    ctx.out.ArrayHeader(names.size());
    for (const auto& n : names) ctx.out.Bulk(n);
  } else if (EqualsIgnoreCase(sub, "NUMSUB")) {
    ctx.out.MapHeader(ctx.argc() - 2);
    for (size_t i = 2; i < ctx.argc(); ++i) {
      ctx.out.Bulk(ctx.arg(i));
      ctx.out.Integer(ps.NumSubscribers(ctx.arg(i)));
    }
  } else if (EqualsIgnoreCase(sub, "NUMPAT") && ctx.argc() == 2) {
    ctx.out.Integer(ps.NumPatterns());
  } else {
    ctx.out.Error(errors::UnknownSubcommand(sub, "PUBSUB"));
  }
}

}  // namespace

void RegisterPubSubCommands(CommandTable& t) {
  const uint32_t kPs = kNoMulti | kLoading | kStale;
  t.Add({"subscribe", -2, kPs, 0, 0, 0, SubscribeCommand, "pubsub",
         "Listens for messages published to channels."});
  t.Add({"psubscribe", -2, kPs, 0, 0, 0, PSubscribeCommand, "pubsub",
         "Listens for messages published to channels that match one or more patterns."});
  t.Add({"unsubscribe", -1, kPs, 0, 0, 0, UnsubscribeCommandT<false>, "pubsub",
         "Stops listening to messages posted to channels."});
  t.Add({"punsubscribe", -1, kPs, 0, 0, 0, UnsubscribeCommandT<true>, "pubsub",
         "Stops listening to messages published to channels that match one or more patterns."});
  t.Add({"publish", 3, kFast | kLoading | kStale, 0, 0, 0, PublishCommand, "pubsub",
         "Posts a message to a channel."});
  t.Add({"pubsub", -2, kLoading | kStale, 0, 0, 0, PubSubCommand, "pubsub",
         "A container for Pub/Sub commands."});
}

}  // namespace ragkv::server
