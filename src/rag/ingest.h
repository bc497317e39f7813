// Ingest: walks files and folders into a ChunkStore, incrementally.
//
// Each file's bytes are hashed (XXH3-64); a file whose hash and size match
// its manifest entry is left alone, a changed one has all its chunks
// replaced, and files that were ingested from under one of the given roots
// but no longer exist are removed. Unusable files are skipped with a reason
// and counted, never fatal. The store is committed every
// `checkpoint_seconds` and at the end, so an interrupted ingest keeps every
// file finished before its last checkpoint and the next run resumes from
// there (unchanged files are skipped by hash).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "rag/calibration.h"
#include "rag/chunk_store.h"
#include "rag/chunker.h"
#include "rag/embedder.h"

namespace ragkv::rag {

struct IngestOptions {
  ChunkerOptions chunker;
  double checkpoint_seconds = 30;
  // Recalibrate the abstention threshold (calibration.h) before the final
  // commit whenever the collection changed, and store it with the collection.
  bool calibrate = true;
  CalibrationOptions calibration;
};

struct IngestProgress {
  size_t files_done = 0;
  size_t files_total = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  size_t chunks_added = 0;
  std::string current;  // path being processed
};

struct SkippedFile {
  std::string path;
  std::string reason;
};

struct IngestSummary {
  size_t files_seen = 0;
  size_t added = 0;    // new files
  size_t updated = 0;  // changed files re-ingested
  size_t unchanged = 0;
  size_t removed = 0;  // deleted since the last ingest
  size_t chunks_added = 0;
  size_t chunks_removed = 0;
  uint64_t bytes_read = 0;
  double seconds = 0;
  std::vector<SkippedFile> skipped;
  // Set when this ingest (re)calibrated; calibration_seconds is included in
  // `seconds`.
  std::optional<AbstentionCalibration> calibration;
  double calibration_seconds = 0;
};

using ProgressFn = std::function<void(const IngestProgress&)>;

// Errors: kInvalidArgument for a path that does not exist; embedder and
// store errors (nothing after the last checkpoint is committed then).
Result<IngestSummary> Ingest(const std::vector<std::string>& paths, ChunkStore* store,
                             Embedder* embedder, const IngestOptions& options,
                             const ProgressFn& progress = nullptr);

}  // namespace ragkv::rag
