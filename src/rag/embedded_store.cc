// The embedded ChunkStore: the server store (server_store.cc) over the
// embedded engine (embedded_engine.h). A collection in a data directory is
// the same keys and FT index as on a server, written by the same code; only
// the connection differs.
//
// Directories written by earlier versions held each collection as
// generation directories (DATA/<collection>/CURRENT, gen-N/). They are not
// migrated: the documents are the source of truth and an ingest of FOLDOC
// takes seconds, so a clear error that says to re-ingest is worth more than
// a reader for a format nothing else uses.
#include <cstdlib>
#include <filesystem>

#include "rag/chunk_store.h"
#include "rag/embedded_engine.h"

namespace ragkv::rag {

std::string DefaultDataDir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/ragkv";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.local/share/ragkv";
}

Result<std::unique_ptr<ChunkStore>> OpenEmbeddedStore(const std::string& data_dir,
                                                      const std::string& name) {
  // '/' and a leading '.' were path rules of the old layout; they stay so
  // that a name never points outside DATA in the old-format check below.
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
    return Status::InvalidArgument("collection name '" + name +
                                   "' must be non-empty, without '/' and not start with '.'");
  }
  std::error_code ec;
  const std::string old_collection = data_dir + "/" + name;
  if (std::filesystem::exists(old_collection + "/CURRENT", ec)) {
    return Status::FailedPrecondition(
        old_collection + " holds collection '" + name +
        "' in the format of earlier ragkv versions, which this one no longer reads; delete " +
        old_collection + " and run `ragkv ingest` again");
  }
  auto engine = OpenEmbeddedEngine(data_dir);
  if (!engine.ok()) {
    const std::string message(engine.status().message());
    if (message.find("in use by another") == std::string::npos) return engine.status();
    return Status::FailedPrecondition(
        message +
        "; wait for it to finish, pass a different --data, or reach a running `ragkv serve` "
        "with --server");
  }
  return OpenServerStore(std::move(engine).value(), name);
}

}  // namespace ragkv::rag
