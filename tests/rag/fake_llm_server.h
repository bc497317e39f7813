// A fake Ollama / OpenAI-compatible HTTP server for tests: a loopback socket
// served by one thread, one request per connection (Connection: close), with
// a handler that writes whatever bytes the test wants — whole JSON replies,
// NDJSON or SSE streams, errors in the middle, or nothing at all.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ragkv::rag::testing {

struct HttpRequest {
  std::string method;
  std::string path;
  std::string body;
};

class FakeLlmServer {
 public:
  // Writes the response for `request` to `fd` (helpers below).
  using Handler = std::function<void(const HttpRequest& request, int fd)>;

  explicit FakeLlmServer(Handler handler);
  ~FakeLlmServer();  // stops the thread and closes the socket

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<HttpRequest> requests() const;

  static void SendJson(int fd, int status, const std::string& body);
  // Status line and headers of a close-delimited streaming body.
  static void StartStream(int fd, const std::string& content_type);
  static void SendRaw(int fd, const std::string& bytes);

 private:
  void Serve();

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<HttpRequest> requests_;
  std::thread thread_;
};

}  // namespace ragkv::rag::testing
