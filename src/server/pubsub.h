// PubSub: channel and pattern subscriptions (SUBSCRIBE, PSUBSCRIBE) and
// delivery (PUBLISH) as in Redis 7.0, delivered through Engine::io so a
// message reaches a subscriber's connection outside of its own command.
// Redis Sentinel depends on it: it discovers its peers by PUBLISHing hellos
// to __sentinel__:hello and hearing them back on a SUBSCRIBEd link.
//
// Thread safety: the event-loop thread only. Complexity: PUBLISH is
// O(subscribers of the channel + number of patterns).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ragkv::server {

class Engine;
struct Session;

class PubSub {
 public:
  // Adds a subscription; false if `session` already had it.
  bool Subscribe(Session& session, std::string_view channel);
  bool PSubscribe(Session& session, std::string_view pattern);
  // Removes one; false if `session` did not have it.
  bool Unsubscribe(Session& session, std::string_view channel);
  bool PUnsubscribe(Session& session, std::string_view pattern);
  // The session's channels / patterns, in subscription order.
  std::vector<std::string> ChannelsOf(const Session& session) const;
  std::vector<std::string> PatternsOf(const Session& session) const;
  // Drops every subscription of a closing session.
  void RemoveSession(Session& session);

  // Sends the message to every subscriber; returns how many received it.
  int64_t Publish(Engine& engine, std::string_view channel, std::string_view message);

  // Channel names matching `pattern` (all with an empty pattern).
  std::vector<std::string> ActiveChannels(std::string_view pattern) const;
  int64_t NumSubscribers(std::string_view channel) const;
  int64_t NumPatterns() const { return static_cast<int64_t>(patterns_.size()); }
  int64_t NumChannels() const { return static_cast<int64_t>(channels_.size()); }

  // RESP2 subscribed mode allows only these commands.
  static bool AllowedWhileSubscribed(std::string_view command);
  static std::string NotAllowedError(std::string_view command);

 private:
  using Index = std::unordered_map<std::string, std::vector<Session*>>;
  static bool Add(Index& index, Session& session, std::string_view name);
  static bool Remove(Index& index, Session& session, std::string_view name);

  Index channels_;
  Index patterns_;
  // Per session id: its channels and patterns (for RemoveSession, order kept).
  std::unordered_map<uint64_t, std::vector<std::string>> session_channels_;
  std::unordered_map<uint64_t, std::vector<std::string>> session_patterns_;
};

}  // namespace ragkv::server
