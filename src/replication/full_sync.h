// Diskless full sync, the leader's forked side (Redis's
// repl-diskless-sync): a child process serializes the keyspace as it was at
// fork() and streams it straight into the sockets of the followers waiting
// for it, while the parent's event loop keeps serving clients and holds each
// follower's share of the stream until the child is done
// (docs/protocols/replication.md, "Full sync").
//
// What the child writes, on every socket, in this order:
//
//   +FULLRESYNC <replid> <offset>\r\n
//   $EOF:<mark>\r\n
//   <snapshot: every key, then each FT index as the snapshot file has it:
//    its saved VECTOR fields ("vector-index:" sections, unless
//    vector-index-snapshot is no) and its definition ("search-index:")>
//   <mark>
//
// `mark` is 40 random hex characters (Redis's EOF-capable format: the
// length is unknown before serializing). The snapshot is our CRC-checked
// snapshot format, so a follower verifies it before applying anything, and
// its index sections are those of a snapshot file, so the follower adopts
// the saved vector indexes through the snapshot loader's own code
// (server::LoadSearchSection) instead of rebuilding every HNSW graph.
// Earlier leaders sent the definitions first as kIndexAux records; followers
// still accept those.
//
// Thread safety: ForkFullSync on the event-loop thread; the child touches
// nothing but the keyspace (read-only, its own copy-on-write view), the
// target sockets and the heap.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "search/index_manager.h"
#include "server/persistence.h"

namespace ragkv::persistence {
class SnapshotWriter;
}  // namespace ragkv::persistence

namespace ragkv::store {
class Keyspace;
}  // namespace ragkv::store

namespace ragkv::replication {

// Snapshot aux record of an earlier leader's full sync holding one index
// definition: "<db>\n" followed by the RESP commands that define the index.
// Followers still load it; leaders now write search sections instead.
inline constexpr std::string_view kIndexAux = "ragkv-ft-index";

// One kIndexAux record per index definition (tests of the old format).
Status WriteIndexDefinitions(const std::vector<search::IndexDefinition>& definitions,
                             persistence::SnapshotWriter& writer);

struct FullSyncJob {
  std::string replid;
  int64_t offset = 0;       // stream offset the snapshot corresponds to
  std::string mark;         // 40 characters ending the payload
  std::vector<int> fds;     // the followers' sockets (non-blocking; flags left alone)
  std::vector<bool> legacy_sync;  // per socket: asked with SYNC, so no +FULLRESYNC line
  int64_t now_ms = 0;       // unix ms: keys expired at this time are skipped
  int64_t timeout_ms = 60000;  // a socket that accepts nothing for this long is dropped
  // Captured before fork() (server::CaptureSearchIndexes): IndexManager has a
  // mutex the child must not touch.
  server::SearchIndexesToSave search;
  // Write end of the pipe on which the child reports its copy-on-write size
  // (common/cow_size.h), or -1.
  int cow_fd = -1;
};

// A follower that asked with SYNC instead of PSYNC gets the same bytes
// without the +FULLRESYNC line, as Redis does.
//
// Forks the child described above and returns its pid; the caller reaps it
// (waitpid) and learns the outcome from its exit status: 0 when at least one
// follower received the whole payload, non-zero when serializing failed or
// every follower was dropped. A follower whose socket fails or stalls is
// shut down (SHUT_RDWR) by the child, so the parent sees it close.
// kIOError if fork() fails. REQUIRES: `job.fds` non-empty, `job.legacy_sync` of the same size.
Result<pid_t> ForkFullSync(const FullSyncJob& job, store::Keyspace& keyspace);

}  // namespace ragkv::replication
