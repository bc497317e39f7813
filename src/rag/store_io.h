// Small helpers shared by the chunk stores and the pipeline: durable file
// writes and the derived fields of a chunk.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "rag/document.h"

namespace ragkv::rag {

Result<std::string> ReadWholeFile(const std::string& path);
// Writes `data` to a new file at `path` and fsyncs it.
Status WriteFileDurably(const std::string& path, std::string_view data);
// Atomically replaces `path`: write path.tmp, fsync, rename, fsync the directory.
Status ReplaceFileDurably(const std::string& path, std::string_view data);
Status SyncDirectory(const std::string& dir);

// A source's document id: file name without folder and extension,
// percent-decoded ("hash%20coding.txt" -> "hash coding").
std::string DocIdFromSource(std::string_view source);
// The text indexed in a chunk's title field: document title, heading path and
// the document id with '-' and '_' as spaces.
std::string TitleField(const ChunkRecord& chunk);

}  // namespace ragkv::rag
