// The embedded engine: the server's Engine, run in this process on a data
// directory with the server's own persistence, behind the RespConnection
// interface that the server store (server_store.cc) speaks. `ragkv ingest |
// search | ask | eval --data DATA` store a collection through it with the
// same commands and key layout as on `ragkv serve`, so there is one storage
// code path, and DATA is an ordinary ragkv data directory:
//
//   DATA/ragkv.lock                              flock(2)ed by the process that has DATA open
//   DATA/appendonlydir/appendonly.aof.manifest   the multi-part AOF (docs/formats/aof.md)
//   DATA/appendonlydir/appendonly.aof.N.base.rks the base snapshot (keys + FT index definitions)
//   DATA/appendonlydir/appendonly.aof.N.incr.aof commands written since that base
//
// `ragkv serve --dir DATA --appendonly yes` serves the same data (when no
// embedded process holds DATA).
//
//   RAGKV_ASSIGN_OR_RETURN(auto conn, OpenEmbeddedEngine("/home/me/.local/share/ragkv"));
//   RAGKV_ASSIGN_OR_RETURN(resp::RespValue v, conn->Call({"HGETALL", "ragkv:default:meta"}));
//   RAGKV_RETURN_IF_ERROR(conn->Checkpoint());   // durable, compacted when worth it
//
// Durability: appendonly yes, appendfsync everysec. Every call hands its
// writes to the OS before it returns (the server's reply barrier), so a
// killed process loses nothing it was told succeeded; a power loss loses at
// most the last second, and the AOF's prefix rule keeps what survives
// consistent. Checkpoint() fsyncs, and when the log's incr part has grown
// to the size of its base (and at least 1 MiB) rewrites the log first, so
// the next open loads one snapshot rather than replaying every command.
//
// Thread safety: none; one thread uses the connection. Process safety: the
// directory lock; a second open (this process or another, embedded or
// `ragkv serve`) fails with kFailedPrecondition "data directory DATA is in
// use by another ragkv process (pid N)".
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "rag/server_connection.h"

namespace ragkv::rag {

// Opens (creating if needed) the engine on `data_dir`: takes the lock, loads
// the log (and rebuilds the FT indexes it defines), and returns a connection
// whose Call/CallPipelined run commands in this process. Errors:
// kFailedPrecondition (locked), kCorruption (a damaged log, with the file,
// offset and `ragkv check-aof` command), kIOError.
Result<std::unique_ptr<RespConnection>> OpenEmbeddedEngine(const std::string& data_dir);

}  // namespace ragkv::rag
