// HTTP clients for Ollama and OpenAI-compatible servers (design in remote.h).
//
// One small libcurl wrapper (PostJson) serves all four clients: it sends a
// JSON body, and either collects the reply or, for streams, hands each
// complete line to a callback as soon as it arrives (NDJSON and SSE are both
// line protocols; partial lines are buffered across reads). Retries with
// exponential backoff cover connection failures, timeouts before any byte
// arrived, and 5xx replies; a stream that already produced tokens is never
// retried, since the user has seen them.
#include "rag/remote.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "rag/store_io.h"

namespace ragkv::rag {
namespace {

using Json = nlohmann::json;
using LineFn = std::function<Status(std::string_view line)>;

struct HttpReply {
  long status = 0;
  std::string body;  // the whole body when not streaming (or on HTTP errors)
};

void GlobalCurlInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  CURL* curl = nullptr;
  const LineFn* on_line = nullptr;
  std::string pending;  // partial line
  HttpReply reply;
  Status line_error;
  bool streamed_any = false;
};

size_t OnData(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  if (t->on_line == nullptr || t->reply.status == 0) {
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->reply.status);
  }
  if (t->on_line == nullptr || t->reply.status != 200) {
    t->reply.body.append(data, bytes);
    return bytes;
  }
  t->pending.append(data, bytes);
  size_t start = 0;
  for (size_t nl; (nl = t->pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(t->pending.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    t->streamed_any = true;
    Status s = (*t->on_line)(line);
    if (!s.ok()) {
      t->line_error = s;
      return 0;  // aborts the transfer
    }
  }
  t->pending.erase(0, start);
  return bytes;
}

// The server's error message from {"error": "..."} or {"error": {"message": "..."}}.
std::string ErrorMessage(std::string_view body) {
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error")) {
    const Json& e = j["error"];
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      return e["message"].get<std::string>();
    }
  }
  std::string s(body.substr(0, 200));
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

struct Endpoint {
  std::string service;  // "Ollama" or "the OpenAI-compatible server"
  std::string base;     // base URL
  std::string flag;     // "--ollama-url"
  std::string api_key;
};

Status HttpError(const Endpoint& ep, const std::string& model, const HttpReply& r) {
  std::string msg = ErrorMessage(r.body);
  if (r.status == 404) {
    if (ep.service == "Ollama") {
      return Status::NotFound("model '" + model + "' is not available in Ollama at " + ep.base +
                              " (" + msg + "); run `ollama pull " + model + "`");
    }
    return Status::NotFound(ep.service + " at " + ep.base + " has no model '" + model + "' (" +
                            msg + "); check the model name or " + ep.flag);
  }
  if (r.status >= 500) {
    return Status::Unavailable(ep.service + " at " + ep.base + " failed with HTTP " +
                               std::to_string(r.status) + ": " + msg + "; try again");
  }
  return Status::InvalidArgument(ep.service + " at " + ep.base + " rejected the request (HTTP " +
                                 std::to_string(r.status) + "): " + msg);
}

// POSTs `body` to ep.base + path. With `on_line`, a 200 reply is streamed
// line by line; otherwise it is returned whole.
Result<HttpReply> PostJson(const Endpoint& ep, const std::string& path, const std::string& body,
                           const RemoteOptions& o, const LineFn* on_line) {
  GlobalCurlInit();
  const std::string url = ep.base + path;
  Status last;
  for (int attempt = 0; attempt <= std::max(0, o.retries); ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200 << (attempt - 1)));
    }
    Transfer t;
    t.curl = curl_easy_init();
    if (t.curl == nullptr) return Status::Internal("curl_easy_init failed");
    t.on_line = on_line;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    if (!ep.api_key.empty()) {
      headers = curl_slist_append(headers, ("Authorization: Bearer " + ep.api_key).c_str());
    }
    const long timeout_ms = static_cast<long>(o.timeout_seconds * 1000);
    curl_easy_setopt(t.curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(t.curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(t.curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(t.curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(t.curl, CURLOPT_WRITEFUNCTION, OnData);
    curl_easy_setopt(t.curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(t.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t.curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 10000L));
    if (on_line != nullptr) {
      // A stream may legitimately run long; fail only when it stalls.
      curl_easy_setopt(t.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(t.curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, timeout_ms / 1000));
    } else {
      curl_easy_setopt(t.curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    }
    CURLcode rc = curl_easy_perform(t.curl);
    if (t.reply.status == 0) curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &t.reply.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(t.curl);
    if (!t.line_error.ok()) return t.line_error;
    if (rc != CURLE_OK) {
      bool timeout = rc == CURLE_OPERATION_TIMEDOUT;
      last = Status::Unavailable(
          timeout ? ep.service + " at " + ep.base + " did not answer within " +
                        std::to_string(static_cast<int>(o.timeout_seconds)) +
                        " s; raise --timeout or check the server"
                  : "cannot reach " + ep.service + " at " + ep.base + " (" +
                        curl_easy_strerror(rc) + "); is it running? set " + ep.flag);
      if (t.streamed_any) return last;  // never repeat tokens the user has seen
      continue;
    }
    if (!t.pending.empty() && t.reply.status == 200 && on_line != nullptr) {
      RAGKV_RETURN_IF_ERROR((*on_line)(t.pending));  // last line without '\n'
    }
    if (t.reply.status >= 500 && !t.streamed_any) {
      last = HttpError(ep, "", t.reply);
      continue;
    }
    return t.reply;
  }
  return last;
}

Endpoint OllamaEndpoint(const RemoteOptions& o) {
  std::string base = o.ollama_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return {"Ollama", base, "--ollama-url", ""};
}

Endpoint OpenAiEndpoint(const RemoteOptions& o) {
  std::string base = o.openai_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return {"the OpenAI-compatible server", base, "--openai-url", o.openai_api_key};
}

// Task prefixes some embedding models were trained with.
std::string Prefix(const std::string& model, EmbedPurpose purpose) {
  if (model.rfind("nomic-embed-text", 0) == 0) {
    return purpose == EmbedPurpose::kQuery ? "search_query: " : "search_document: ";
  }
  if (model.rfind("mxbai-embed-large", 0) == 0 && purpose == EmbedPurpose::kQuery) {
    return "Represent this sentence for searching relevant passages: ";
  }
  return "";
}

Status Normalize(std::vector<float>* v) {
  double norm = 0;
  for (float x : *v) {
    if (!std::isfinite(x)) return Status::Corruption("embedding contains NaN or Inf values");
    norm += static_cast<double>(x) * x;
  }
  if (norm > 0) {
    float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : *v) x *= inv;
  }
  return Status::Ok();
}

Result<std::vector<float>> ParseVector(const Json& j) {
  if (!j.is_array() || j.empty()) return Status::Corruption("embedding is not a number array");
  std::vector<float> v;
  v.reserve(j.size());
  for (const Json& x : j) {
    if (!x.is_number()) return Status::Corruption("embedding is not a number array");
    v.push_back(x.get<float>());
  }
  RAGKV_RETURN_IF_ERROR(Normalize(&v));
  return v;
}

class RemoteEmbedder final : public Embedder {
 public:
  RemoteEmbedder(bool ollama, std::string model, RemoteOptions o)
      : ollama_(ollama), model_(std::move(model)), options_(std::move(o)) {}

  std::string id() const override {
    return std::string(ollama_ ? "ollama:" : "openai:").append(model_);
  }
  size_t dim() const override { return dim_; }

  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts,
                                                EmbedPurpose purpose) override {
    std::vector<std::vector<float>> out;
    const std::string prefix = Prefix(model_, purpose);
    const size_t batch = std::max<size_t>(1, options_.batch_size);
    for (size_t begin = 0; begin < texts.size(); begin += batch) {
      Json input = Json::array();
      for (size_t i = begin; i < std::min(texts.size(), begin + batch); ++i) {
        input.push_back(prefix + texts[i]);
      }
      Json body = {{"model", model_}, {"input", input}};
      if (ollama_) {
        body["truncate"] = true;
        body["keep_alive"] = "10m";
      } else {
        body["encoding_format"] = "float";
      }
      const Endpoint ep = ollama_ ? OllamaEndpoint(options_) : OpenAiEndpoint(options_);
      RAGKV_ASSIGN_OR_RETURN(
          HttpReply reply,
          PostJson(ep, ollama_ ? "/api/embed" : "/embeddings",
                   body.dump(-1, ' ', false, Json::error_handler_t::replace), options_, nullptr));
      if (reply.status != 200) return HttpError(ep, model_, reply);
      Json j = Json::parse(reply.body, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        return Status::Corruption(ep.service + " sent an embedding reply that is not JSON");
      }
      std::vector<Json> vectors;
      if (ollama_ && j.contains("embeddings") && j["embeddings"].is_array()) {
        for (const Json& v : j["embeddings"]) vectors.push_back(v);
      } else if (!ollama_ && j.contains("data") && j["data"].is_array()) {
        vectors.resize(j["data"].size());
        for (const Json& d : j["data"]) {
          size_t index = d.value("index", vectors.size());
          if (index >= vectors.size() || !d.contains("embedding")) {
            return Status::Corruption("embedding reply has a bad index");
          }
          vectors[index] = d["embedding"];
        }
      } else {
        return Status::Corruption(ep.service + " sent no embeddings");
      }
      if (vectors.size() != input.size()) {
        return Status::Corruption(ep.service + " returned " + std::to_string(vectors.size()) +
                                  " embeddings for " + std::to_string(input.size()) + " inputs");
      }
      for (const Json& v : vectors) {
        RAGKV_ASSIGN_OR_RETURN(std::vector<float> vec, ParseVector(v));
        if (dim_ == 0) dim_ = vec.size();
        if (vec.size() != dim_) return Status::Corruption("embeddings of differing dimension");
        out.push_back(std::move(vec));
      }
    }
    return out;
  }

 private:
  bool ollama_;
  std::string model_;
  RemoteOptions options_;
  size_t dim_ = 0;
};

class RemoteGenerator final : public Generator {
 public:
  RemoteGenerator(bool ollama, std::string model, RemoteOptions o)
      : ollama_(ollama), model_(std::move(model)), options_(std::move(o)) {}

  std::string name() const override {
    return std::string(ollama_ ? "ollama:" : "openai:").append(model_);
  }

  Result<std::string> Generate(const AnswerContext& context, const TokenSink& sink) override {
    constexpr size_t kMaxPromptChars = 24000;  // ~6k tokens of English
    Prompt prompt = BuildGroundedPrompt(context, kMaxPromptChars);
    Json messages = Json::array({{{"role", "system"}, {"content", prompt.system}},
                                 {{"role", "user"}, {"content", prompt.user}}});
    Json body = {{"model", model_}, {"messages", messages}, {"stream", true}};
    // ~4 characters per token, plus room for the answer; rounded up to a
    // multiple of 2048 so that repeated questions reuse the loaded context.
    const size_t prompt_tokens = (prompt.system.size() + prompt.user.size()) / 4 + 1;
    const size_t num_ctx = ((prompt_tokens + 1024) / 2048 + 1) * 2048;
    if (ollama_) {
      body["options"] = {
          {"num_ctx", num_ctx}, {"temperature", 0.1}, {"seed", 42}, {"num_predict", 512}};
      body["keep_alive"] = "10m";
    } else {
      body["temperature"] = 0.1;
      body["seed"] = 42;
      body["max_tokens"] = 512;
    }
    std::string answer;
    bool done = false;
    const Endpoint ep = ollama_ ? OllamaEndpoint(options_) : OpenAiEndpoint(options_);
    auto emit = [&](const std::string& token) {
      if (token.empty()) return;
      answer += token;
      if (sink) sink(token);
    };
    LineFn on_line = [&](std::string_view line) -> Status {
      if (done) return Status::Ok();
      if (!ollama_) {
        if (line[0] == ':') return Status::Ok();  // SSE comment / keep-alive ping
        if (line.substr(0, 5) != "data:") {
          Json e = Json::parse(line, nullptr, false);
          if (!e.is_discarded() && e.is_object() && e.contains("error")) {
            return Status::Unavailable(ep.service +
                                       " reported an error mid-answer: " + ErrorMessage(line));
          }
          return Status::Ok();  // "event:", "id:" fields
        }
        line.remove_prefix(5);
        while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        if (line == "[DONE]") {
          done = true;
          return Status::Ok();
        }
      }
      Json j = Json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        return Status::Corruption(ep.service + " sent a stream line that is not JSON");
      }
      if (j.contains("error")) {
        return Status::Unavailable(
            ep.service + " reported an error mid-answer: " + ErrorMessage(line) + "; try again");
      }
      if (ollama_) {
        if (j.contains("message") && j["message"].is_object()) {
          emit(j["message"].value("content", std::string()));
        }
        if (j.value("done", false)) done = true;
      } else if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
        const Json& c = j["choices"][0];
        if (c.contains("delta") && c["delta"].is_object()) {
          const Json& content = c["delta"].value("content", Json());
          if (content.is_string()) emit(content.get<std::string>());
        }
      }
      return Status::Ok();
    };
    RAGKV_ASSIGN_OR_RETURN(
        HttpReply reply,
        PostJson(ep, ollama_ ? "/api/chat" : "/chat/completions",
                 body.dump(-1, ' ', false, Json::error_handler_t::replace), options_, &on_line));
    if (reply.status != 200) return HttpError(ep, model_, reply);
    if (!done) {
      return Status::Unavailable(ep.service +
                                 " closed the stream before the answer was complete;"
                                 " try again");
    }
    return answer;
  }

 private:
  bool ollama_;
  std::string model_;
  RemoteOptions options_;
};

}  // namespace

Prompt BuildGroundedPrompt(const AnswerContext& context, size_t max_prompt_chars) {
  Prompt p;
  p.system =
      "You answer questions using only the numbered context passages. Cite every passage you "
      "use as [1], [2], ... right after the statement it supports. If the context does not "
      "contain the answer, say that the documents do not contain it; never invent facts. Be "
      "concise.";
  const std::string question = "Question: " + context.question + "\n";
  std::string passages;
  for (size_t i = 0; i < context.chunks.size(); ++i) {
    const ChunkRecord& c = context.chunks[i].chunk;
    std::string passage(1, '[');
    passage += std::to_string(i + 1);
    passage += "] (";
    passage += CitationLabel(c);
    passage += ")\n";
    passage += c.text;
    passage += "\n\n";
    if (p.system.size() + passages.size() + passage.size() + question.size() + 10 >
            max_prompt_chars &&
        i > 0) {
      break;
    }
    passages += passage;
  }
  p.user = "Context:\n" + passages + question;
  return p;
}

std::unique_ptr<Embedder> NewOllamaEmbedder(const std::string& model, const RemoteOptions& o) {
  return std::make_unique<RemoteEmbedder>(true, model, o);
}
std::unique_ptr<Embedder> NewOpenAiEmbedder(const std::string& model, const RemoteOptions& o) {
  return std::make_unique<RemoteEmbedder>(false, model, o);
}
std::unique_ptr<Generator> NewOllamaGenerator(const std::string& model, const RemoteOptions& o) {
  return std::make_unique<RemoteGenerator>(true, model, o);
}
std::unique_ptr<Generator> NewOpenAiGenerator(const std::string& model, const RemoteOptions& o) {
  return std::make_unique<RemoteGenerator>(false, model, o);
}

}  // namespace ragkv::rag
