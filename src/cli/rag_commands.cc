// `ragkv ingest | search | ask | eval`: question answering over documents.
//
// The wiring only: options -> ChunkStore + Embedder (+ Generator) -> the rag
// library. Every failure prints one line saying what to do and exits 1;
// nothing here writes to a collection except `ingest`, through the store's
// atomic Commit.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/subcommand.h"
#include "common/log.h"
#include "rag/calibration.h"
#include "rag/chunk_store.h"
#include "rag/chunker.h"
#include "rag/embedder.h"
#include "rag/eval.h"
#include "rag/generator.h"
#include "rag/ingest.h"
#include "rag/retriever.h"
#include "rag/server_connection.h"
#include "rag/store_io.h"

namespace ragkv::cli {
namespace {

using Json = nlohmann::json;

// The abstention threshold on retrieval confidence, calibrated on half of the
// FOLDOC dev questions and checked on the other half (docs/rag.md).
// "The collection's calibrated threshold" (RetrievalOptions::abstain_threshold).
constexpr double kDefaultThreshold = -1;

struct CommonOptions {
  std::string data_dir;
  std::string server;  // redis://... : use a Redis-compatible server instead of --data
  std::string collection = "default";
  std::string embedder;  // empty: the collection's own (query commands) / builtin (ingest)
  rag::RemoteOptions remote;
};

void AddCommonOptions(CLI::App* sub, CommonOptions* o) {
  sub->add_option("--data", o->data_dir,
                  "Data directory (default: $XDG_DATA_HOME/ragkv or ~/.local/share/ragkv)");
  sub->add_option("--server", o->server,
                  "Store the collection on a Redis-compatible server with FT.* "
                  "(redis://[user:pass@]host:port) instead of --data; a comma-separated list: "
                  "ingest writes to the leader (ROLE), search/ask read from the first "
                  "reachable server");
  sub->add_option("--collection", o->collection, "Collection name")->capture_default_str();
  sub->add_option("--ollama-url", o->remote.ollama_url, "Ollama base URL")->capture_default_str();
  sub->add_option("--openai-url", o->remote.openai_url,
                  "OpenAI-compatible base URL (…/v1); key from $OPENAI_API_KEY")
      ->capture_default_str();
  sub->add_option("--timeout", o->remote.timeout_seconds, "HTTP timeout in seconds")
      ->capture_default_str();
}

int Fail(const Status& s) {
  std::fprintf(stderr, "ragkv: %s\n", std::string(s.message()).c_str());
  return 1;
}

std::string DataDir(const CommonOptions& o) {
  if (!o.server.empty()) return o.server;
  return o.data_dir.empty() ? rag::DefaultDataDir() : o.data_dir;
}

// Writes (ingest) go to the leader among the --server list; reads to the
// first reachable server, falling back along the list.
Result<std::unique_ptr<rag::ChunkStore>> OpenStore(const CommonOptions& o, bool for_write) {
  if (o.server.empty()) {
    // The embedded engine's notices ("DB loaded from append only file ...")
    // are for server operators; here they would only clutter the output.
    if (log::GetLevel() < log::Level::kWarning) log::SetLevel(log::Level::kWarning);
    return rag::OpenEmbeddedStore(DataDir(o), o.collection);
  }
  if (!o.data_dir.empty()) {
    return Status::InvalidArgument("give either --data or --server, not both");
  }
  RAGKV_ASSIGN_OR_RETURN(auto servers, rag::ParseServerList(o.server));
  RAGKV_ASSIGN_OR_RETURN(
      auto conn, rag::ConnectToServers(std::move(servers),
                                       for_write ? rag::ServerRole::kLeader : rag::ServerRole::kAny,
                                       o.remote.timeout_seconds));
  return rag::OpenServerStore(std::move(conn), o.collection);
}

void FillApiKey(CommonOptions* o) {
  if (const char* key = std::getenv("OPENAI_API_KEY")) o->remote.openai_api_key = key;
}

std::string HumanBytes(double bytes) {
  char buf[32];
  if (bytes >= 1 << 20) {
    std::snprintf(buf, sizeof buf, "%.1f MB", bytes / (1 << 20));
  } else {
    std::snprintf(buf, sizeof buf, "%.0f KB", bytes / 1024);
  }
  return buf;
}

// Progress: a redrawn bar on a terminal, a plain line every ~5 s otherwise.
class ProgressPrinter {
 public:
  ProgressPrinter() : tty_(isatty(STDERR_FILENO) == 1), start_(Clock::now()), last_(start_) {}

  void Update(const rag::IngestProgress& p) {
    auto now = Clock::now();
    bool done = p.current.empty();
    double since = std::chrono::duration<double>(now - last_).count();
    if (!done && since < (tty_ ? 0.1 : 5.0)) return;
    last_ = now;
    double elapsed = std::max(1e-3, std::chrono::duration<double>(now - start_).count());
    double rate = static_cast<double>(p.files_done) / elapsed;
    double frac = p.bytes_total > 0 ? static_cast<double>(p.bytes_done) / p.bytes_total : 1.0;
    double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
    char line[256];
    if (tty_) {
      constexpr int kWidth = 28;
      int filled = static_cast<int>(std::lround(frac * kWidth));
      std::string bar(static_cast<size_t>(filled), '#');
      bar.resize(kWidth, '.');
      std::snprintf(line, sizeof line,
                    "\r[%s] %zu/%zu files  %s  %zu chunks  %.0f files/s  ETA %ds ", bar.c_str(),
                    p.files_done, p.files_total,
                    HumanBytes(static_cast<double>(p.bytes_done)).c_str(), p.chunks_added, rate,
                    static_cast<int>(eta));
      std::fputs(line, stderr);
      if (done) std::fputs("\n", stderr);
    } else {
      std::snprintf(line, sizeof line,
                    "ingest: %zu/%zu files, %s, %zu chunks, %.0f files/s, ETA %ds\n", p.files_done,
                    p.files_total, HumanBytes(static_cast<double>(p.bytes_done)).c_str(),
                    p.chunks_added, rate, static_cast<int>(eta));
      std::fputs(line, stderr);
    }
    std::fflush(stderr);
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool tty_;
  Clock::time_point start_, last_;
};

// ---------------------------------------------------------------- ingest

std::function<int()> SetupIngest(CLI::App& app) {
  auto* sub = app.add_subcommand("ingest", "Add files and folders to a collection (incremental)");
  auto o = std::make_shared<CommonOptions>();
  auto paths = std::make_shared<std::vector<std::string>>();
  auto ingest = std::make_shared<rag::IngestOptions>();
  auto embedder_spec = std::make_shared<std::string>("builtin");
  sub->add_option("PATH", *paths, "Files or folders (text, Markdown, HTML, PDF)")->required();
  AddCommonOptions(sub, o.get());
  sub->add_option("--embedder", *embedder_spec, "builtin | ollama:MODEL | openai:MODEL")
      ->capture_default_str();
  sub->add_option("--chunk-size", ingest->chunker.chunk_size, "Target chunk size in bytes")
      ->capture_default_str()
      ->check(CLI::Range(64, 1 << 20));
  sub->add_option("--chunk-overlap", ingest->chunker.overlap, "Overlap between chunks in bytes")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 19));
  sub->add_option("--calibration-samples", ingest->calibration.samples,
                  "Pseudo-questions drawn from the collection to calibrate abstention (0: keep "
                  "the fixed threshold)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  return [=]() -> int {
    FillApiKey(o.get());
    if (ingest->chunker.overlap * 2 > ingest->chunker.chunk_size) {
      return Fail(Status::InvalidArgument("--chunk-overlap must be at most half of --chunk-size"));
    }
    auto embedder = rag::CreateEmbedder(*embedder_spec, o->remote);
    if (!embedder.ok()) return Fail(embedder.status());
    auto store = OpenStore(*o, /*for_write=*/true);
    if (!store.ok()) return Fail(store.status());
    ingest->calibrate = ingest->calibration.samples > 0;
    ProgressPrinter printer;
    auto summary = rag::Ingest(*paths, store->get(), embedder->get(), *ingest,
                               [&](const rag::IngestProgress& p) { printer.Update(p); });
    if (!summary.ok()) return Fail(summary.status());
    const rag::IngestSummary& s = *summary;
    double secs = std::max(s.seconds, 1e-3);
    std::printf(
        "ingested %zu files into %s/%s in %.1f s (%.0f files/s, %s/s): %zu new, %zu changed, "
        "%zu unchanged, %zu removed, %zu skipped; +%zu -%zu chunks, %zu in collection\n",
        s.files_seen, DataDir(*o).c_str(), o->collection.c_str(), s.seconds,
        static_cast<double>(s.files_seen) / secs,
        HumanBytes(static_cast<double>(s.bytes_read) / secs).c_str(), s.added, s.updated,
        s.unchanged, s.removed, s.skipped.size(), s.chunks_added, s.chunks_removed,
        (*store)->chunk_count());
    if (s.calibration) {
      const rag::AbstentionCalibration& c = *s.calibration;
      std::printf(
          "abstention threshold %.3f, calibrated in %.2f s on %u answerable and %u unanswerable "
          "pseudo-questions (%.0f%% answered, %.0f%% declined; %u more declined by the "
          "unknown-term rule)\n",
          c.threshold, s.calibration_seconds, c.answerable, c.unanswerable, 100 * c.answered,
          100 * c.declined, c.caught_by_unknown);
    }
    if (!s.skipped.empty()) {
      std::printf("skipped:\n");
      for (const auto& sk : s.skipped)
        std::printf("  %s: %s\n", sk.path.c_str(), sk.reason.c_str());
    }
    return 0;
  };
}

// ------------------------------------------------- shared by query commands

struct QuerySession {
  std::unique_ptr<rag::ChunkStore> store;
  std::unique_ptr<rag::Embedder> embedder;
  std::optional<rag::Retriever> retriever;
};

Result<QuerySession> OpenForQuery(const CommonOptions& o, rag::RetrievalOptions ro) {
  QuerySession s;
  const std::string dir = DataDir(o);
  RAGKV_ASSIGN_OR_RETURN(s.store, OpenStore(o, /*for_write=*/false));
  std::string spec = o.embedder;
  if (spec.empty()) {
    spec = s.store->info().embedder_id;
    if (spec == "builtin-v1") spec = "builtin";
  }
  if (spec.empty()) {
    return Status::FailedPrecondition("collection '" + o.collection + "' in " + dir +
                                      " is empty; run `ragkv ingest PATH` first");
  }
  RAGKV_ASSIGN_OR_RETURN(s.embedder, rag::CreateEmbedder(spec, o.remote));
  RAGKV_ASSIGN_OR_RETURN(rag::Retriever r,
                         rag::Retriever::Create(s.store.get(), s.embedder.get(), ro));
  s.retriever.emplace(std::move(r));
  return s;
}

// ---------------------------------------------------------------- search

std::function<int()> SetupSearch(CLI::App& app) {
  auto* sub = app.add_subcommand("search", "Hybrid (BM25 + vector) search over a collection");
  auto o = std::make_shared<CommonOptions>();
  auto query = std::make_shared<std::string>();
  auto k = std::make_shared<size_t>(5);
  auto json = std::make_shared<bool>(false);
  sub->add_option("QUERY", *query, "What to search for")->required();
  AddCommonOptions(sub, o.get());
  sub->add_option("--embedder", o->embedder, "Override the collection's embedder (must match)");
  sub->add_option("--k", *k, "Number of hits")->capture_default_str()->check(CLI::Range(1, 1000));
  sub->add_flag("--json", *json, "Print JSON");
  return [=]() -> int {
    FillApiKey(o.get());
    rag::RetrievalOptions ro;
    ro.abstain_threshold = kDefaultThreshold;
    auto session = OpenForQuery(*o, ro);
    if (!session.ok()) return Fail(session.status());
    auto r = session->retriever->Retrieve(*query, *k);
    if (!r.ok()) return Fail(r.status());
    if (*json) {
      Json hits = Json::array();
      for (size_t i = 0; i < r->hits.size(); ++i) {
        const auto& h = r->hits[i];
        hits.push_back({{"rank", i + 1},
                        {"source", h.chunk.source},
                        {"chunk", h.chunk.ordinal},
                        {"heading", h.chunk.heading},
                        {"page", h.chunk.page},
                        {"score", h.score},
                        {"text", h.chunk.text}});
      }
      Json out = {{"query", *query}, {"confidence", r->confidence}, {"hits", hits}};
      std::printf("%s\n", out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
      return 0;
    }
    for (size_t i = 0; i < r->hits.size(); ++i) {
      const auto& h = r->hits[i];
      std::string snippet = h.chunk.text.substr(0, rag::Utf8SafePrefix(h.chunk.text, 240));
      for (char& c : snippet) {
        if (c == '\n' || c == '\t') c = ' ';
      }
      std::printf("%zu. [%.4f] %s#%u\n   %s\n", i + 1, h.score, rag::CitationLabel(h.chunk).c_str(),
                  h.chunk.ordinal, snippet.c_str());
    }
    if (r->hits.empty()) std::printf("no matches\n");
    return 0;
  };
}

// ---------------------------------------------------------------- ask

struct AskOptions {
  std::string question;
  std::string questions_file;
  std::string out_file;
  std::string llm = "extractive";
  size_t k = 5;
  bool json = false;
  double threshold = kDefaultThreshold;
};

// "0.212 (calibrated)" / "0.18 (fixed)": which threshold a session uses.
std::string DescribeThreshold(const rag::Retriever& r) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f (%s)", r.threshold(),
                r.calibrated() ? "calibrated" : "fixed");
  return buf;
}

std::string ExtractiveNote(const std::string& llm) {
  return llm == "extractive"
             ? "(Extractive answer: sentences quoted from the sources; no LLM configured, "
               "see --llm.)"
             : "";
}

std::function<int()> SetupAsk(CLI::App& app) {
  auto* sub = app.add_subcommand("ask", "Answer a question from the collection, with sources");
  auto o = std::make_shared<CommonOptions>();
  auto a = std::make_shared<AskOptions>();
  sub->add_option("QUESTION", a->question, "The question");
  sub->add_option("--questions", a->questions_file, "File with one question per line");
  sub->add_option("--out", a->out_file, "Write the transcript here as well (with --questions)");
  AddCommonOptions(sub, o.get());
  sub->add_option("--embedder", o->embedder, "Override the collection's embedder (must match)");
  sub->add_option("--llm", a->llm, "extractive | ollama:MODEL | openai:MODEL")
      ->capture_default_str();
  sub->add_option("--k", a->k, "Chunks given to the answerer")
      ->capture_default_str()
      ->check(CLI::Range(1, 50));
  sub->add_option("--threshold", a->threshold,
                  "Abstain below this retrieval confidence (0..1); default: the collection's "
                  "calibrated threshold")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_flag("--json", a->json, "Print JSON");
  return [=]() -> int {
    FillApiKey(o.get());
    if (a->question.empty() == a->questions_file.empty()) {
      return Fail(Status::InvalidArgument(
          "give either a QUESTION or --questions FILE (see `ragkv ask --help`)"));
    }
    std::vector<std::string> questions;
    if (!a->questions_file.empty()) {
      auto text = rag::ReadWholeFile(a->questions_file);
      if (!text.ok()) return Fail(text.status());
      std::istringstream in(*text);
      for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) questions.push_back(line);
      }
    } else {
      questions.push_back(a->question);
    }
    rag::RetrievalOptions ro;
    ro.abstain_threshold = a->threshold;
    auto session = OpenForQuery(*o, ro);
    if (!session.ok()) return Fail(session.status());
    auto generator = rag::CreateGenerator(a->llm, session->store.get(), o->remote);
    if (!generator.ok()) return Fail(generator.status());
    const bool batch = !a->questions_file.empty();
    const bool stream = !batch && !a->json && a->llm != "extractive";
    std::string transcript;
    Json answers = Json::array();
    for (const std::string& q : questions) {
      auto r = session->retriever->Retrieve(q, a->k);
      if (!r.ok()) return Fail(r.status());
      std::string answer;
      if (!r->abstain) {
        rag::AnswerContext ctx{q, r->hits};
        rag::TokenSink sink = nullptr;
        if (stream) {
          sink = [](std::string_view t) {
            std::fwrite(t.data(), 1, t.size(), stdout);
            std::fflush(stdout);
          };
        }
        auto g = (*generator)->Generate(ctx, sink);
        if (!g.ok()) {
          if (stream) std::fputs("\n", stdout);
          return Fail(g.status());
        }
        answer = std::move(*g);
        if (stream) std::fputs("\n\n", stdout);
      }
      std::string response = rag::FormatResponse(answer, *r, session->retriever->threshold(),
                                                 r->abstain ? "" : ExtractiveNote(a->llm));
      if (a->json) {
        Json sources = Json::array();
        for (size_t i = 0; i < r->hits.size(); ++i) {
          sources.push_back({{"n", i + 1},
                             {"source", r->hits[i].chunk.source},
                             {"heading", r->hits[i].chunk.heading},
                             {"page", r->hits[i].chunk.page}});
        }
        answers.push_back({{"question", q},
                           {"answer", answer},
                           {"abstained", r->abstain},
                           // What no document mentions: question terms, or
                           // the subject the question names.
                           {"not_mentioned", r->unknown_terms},
                           {"confidence", r->confidence},
                           {"threshold", session->retriever->threshold()},
                           {"threshold_calibrated", session->retriever->calibrated()},
                           {"generator", (*generator)->name()},
                           {"sources", sources}});
      } else if (batch) {
        transcript += rag::FormatTranscriptEntry(q, response);
      } else if (stream) {
        // The answer is already on screen; print what follows it.
        size_t cut = response.find("\n\nSources:");
        std::printf("%s\n", r->abstain || cut == std::string::npos
                                ? response.c_str()
                                : response.substr(cut + 2).c_str());
      } else {
        std::printf("%s\n", response.c_str());
      }
    }
    if (a->json) {
      const Json& out = batch ? answers : answers[0];
      std::printf("%s\n", out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
    } else if (batch) {
      std::fputs(transcript.c_str(), stdout);
      if (!a->out_file.empty()) {
        Status s = rag::ReplaceFileDurably(a->out_file, transcript);
        if (!s.ok()) return Fail(s);
      }
    }
    return 0;
  };
}

// ---------------------------------------------------------------- eval

std::function<int()> SetupEval(CLI::App& app) {
  auto* sub = app.add_subcommand("eval", "Score retrieval on judged questions (JSON lines)");
  auto o = std::make_shared<CommonOptions>();
  auto file = std::make_shared<std::string>();
  auto run_out = std::make_shared<std::string>();
  auto k = std::make_shared<size_t>(10);
  auto ro = std::make_shared<rag::RetrievalOptions>();
  ro->abstain_threshold = kDefaultThreshold;
  sub->add_option("FILE", *file, "Questions: {\"id\",\"question\",\"relevant\":{doc: grade}}")
      ->required();
  AddCommonOptions(sub, o.get());
  sub->add_option("--embedder", o->embedder, "Override the collection's embedder (must match)");
  sub->add_option("--k", *k, "Cut-off for recall/MRR/nDCG")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  sub->add_option("--threshold", ro->abstain_threshold,
                  "Abstain below this retrieval confidence; default: the collection's calibrated "
                  "threshold")
      ->check(CLI::Range(0.0, 1.0));
  auto recalibrate = std::make_shared<bool>(false);
  auto copt = std::make_shared<rag::CalibrationOptions>();
  auto* calib = sub->add_option_group("calibration");
  calib->add_flag("--recalibrate", *recalibrate,
                  "Calibrate the threshold now (in memory) instead of using the stored one");
  calib->add_option("--calibration-samples", copt->samples, "Pseudo-questions drawn")
      ->capture_default_str();
  calib->add_option("--calibration-context-words", copt->context_words,
                    "Context words added to each pseudo-question's subject")
      ->capture_default_str();
  calib->add_option("--calibration-min-answered", copt->min_answered,
                    "Share of answerable pseudo-questions that must stay answered")
      ->capture_default_str();
  calib->add_option("--calibration-seed", copt->seed, "Seed")->capture_default_str();
  auto* tuning = sub->add_option_group("retrieval tuning");
  tuning->add_option("--text-weight", ro->text_weight, "RRF weight of the BM25 list")
      ->capture_default_str();
  tuning->add_option("--vector-weight", ro->vector_weight, "RRF weight of the vector list")
      ->capture_default_str();
  tuning->add_option("--rrf-k", ro->rrf_k, "RRF rank constant")->capture_default_str();
  tuning->add_option("--candidates", ro->candidates, "Candidates per list before fusion")
      ->capture_default_str();
  tuning->add_option("--rm3-docs", ro->rm3_docs, "RM3 feedback chunks (0: off)")
      ->capture_default_str();
  tuning->add_option("--rm3-terms", ro->rm3_terms, "RM3 expansion terms")->capture_default_str();
  tuning->add_option("--rm3-weight", ro->rm3_weight, "RM3 weight of the feedback model")
      ->capture_default_str();
  tuning->add_flag("!--no-subject-rule", ro->abstain_on_unknown_subject,
                   "Do not decline questions whose named subject no document holds as a phrase");
  sub->add_option("--run-out", *run_out, "Write {id, ranked, abstain, confidence} lines here");
  return [=]() -> int {
    FillApiKey(o.get());
    auto text = rag::ReadWholeFile(*file);
    if (!text.ok()) return Fail(text.status());
    auto questions = rag::ParseQuestions(*text);
    if (!questions.ok()) return Fail(questions.status().WithPrefix(*file));
    auto session = OpenForQuery(*o, *ro);
    if (!session.ok()) return Fail(session.status());
    if (*recalibrate) {
      auto c = rag::CalibrateAbstention(session->store.get(), session->embedder.get(), *ro, *copt);
      if (!c.ok()) return Fail(c.status());
      std::printf("recalibrated: threshold %.3f on %u answerable / %u unanswerable (%u caught by "
                  "the unknown-term rule), %.0f%% answered, %.0f%% declined\n",
                  c->threshold, c->answerable, c->unanswerable, c->caught_by_unknown,
                  100 * c->answered, 100 * c->declined);
      rag::RetrievalOptions fixed = *ro;
      if (fixed.abstain_threshold < 0) fixed.abstain_threshold = c->threshold;
      auto r = rag::Retriever::Create(session->store.get(), session->embedder.get(), fixed);
      if (!r.ok()) return Fail(r.status());
      session->retriever.emplace(std::move(*r));
    }
    std::printf("abstention threshold: %s\n", DescribeThreshold(*session->retriever).c_str());
    std::vector<rag::EvalRun> runs;
    std::string run_lines;
    std::vector<double> latencies_ms;
    for (const rag::EvalQuestion& q : *questions) {
      // Several chunks can come from one document; fetch enough for k ids.
      auto start = std::chrono::steady_clock::now();
      auto r = session->retriever->Retrieve(q.question, *k * 5);
      latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      if (!r.ok()) return Fail(r.status());
      rag::EvalRun run;
      std::set<std::string> seen;
      for (const auto& h : r->hits) {
        std::string id = rag::DocIdFromSource(h.chunk.source);
        if (seen.insert(id).second && run.ranked.size() < *k) run.ranked.push_back(id);
      }
      run.abstain = r->abstain;
      run.confidence = r->confidence;
      run_lines += Json({{"id", q.id},
                         {"ranked", run.ranked},
                         {"abstain", run.abstain},
                         {"confidence", run.confidence}})
                       .dump(-1, ' ', false, Json::error_handler_t::replace) +
                   "\n";
      runs.push_back(std::move(run));
    }
    std::fputs(rag::FormatReport(rag::Evaluate(*questions, runs, *k)).c_str(), stdout);
    if (!latencies_ms.empty()) {
      std::sort(latencies_ms.begin(), latencies_ms.end());
      auto pct = [&](double p) {
        size_t i = static_cast<size_t>(std::ceil(p * latencies_ms.size())) - 1;
        return latencies_ms[std::min(i, latencies_ms.size() - 1)];
      };
      std::printf("retrieval latency over %zu questions: p50 %.2f ms, p99 %.2f ms\n",
                  latencies_ms.size(), pct(0.50), pct(0.99));
    }
    if (!run_out->empty()) {
      Status s = rag::ReplaceFileDurably(*run_out, run_lines);
      if (!s.ok()) return Fail(s);
    }
    return 0;
  };
}

}  // namespace
RAGKV_REGISTER_SUBCOMMAND("ingest", SetupIngest);
RAGKV_REGISTER_SUBCOMMAND("search", SetupSearch);
RAGKV_REGISTER_SUBCOMMAND("ask", SetupAsk);
RAGKV_REGISTER_SUBCOMMAND("eval", SetupEval);
}  // namespace ragkv::cli
