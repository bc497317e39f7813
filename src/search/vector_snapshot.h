// The saved form of an FT index's VECTOR fields, so that a restart adopts the
// vector indexes (an HNSW graph in particular) instead of rebuilding them from
// the keyspace (docs/formats/snapshot.md, "Vector indexes").
//
// One blob per VECTOR field holds the field's vector index in the vector
// engine's own format (docs/formats/vector_index.md) plus the doc-id -> key
// table of the whole FT index, because the vector index is labelled with doc
// ids. SearchIndex::SaveVectorFields streams the blobs; DecodeSavedVectorField
// parses and verifies one; IndexManager::OfferSavedVectorField hands it to the
// next Create of that index, which adopts it only if it matches the keyspace
// (else it rebuilds: the keyspace is the truth, the blob derived state).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "index/vector/vector_index.h"

namespace ragkv::search {

// One decoded blob.
struct SavedVectorField {
  std::string index_name;
  int db = 0;
  std::string attribute;  // the field's alias
  uint64_t next_doc_id = 1;
  // (doc id, key) of every document of the FT index at save time, doc ids
  // strictly increasing; the vector index's labels are a subset of the ids.
  std::vector<std::pair<uint64_t, std::string>> docs;
  std::unique_ptr<vec::VectorIndex> index;
};

// Receives SaveVectorFields' blobs, one per VECTOR field, in pieces.
class SavedFieldSink {
 public:
  virtual ~SavedFieldSink() = default;
  // Starts the blob of field `attribute`, exactly `bytes` long.
  virtual Status Begin(std::string_view attribute, uint64_t bytes) = 0;
  virtual Status Append(std::string_view chunk) = 0;
};

// Parses and verifies one blob: its checksum, the structure, the vector index
// (VectorIndex::LoadFrom, which checks the graph's invariants) and that every
// label of the vector index is a doc id of the table. kCorruption naming
// what failed. Memory: the result holds the index; `blob` is not retained.
Result<SavedVectorField> DecodeSavedVectorField(std::string_view blob);

}  // namespace ragkv::search
