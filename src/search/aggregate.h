// FT.AGGREGATE execution: query → rows → pipeline of GROUPBY/REDUCE, SORTBY
// and LIMIT steps.
//
// Rows start as the matching documents (every hash field plus yielded
// distances, so any property can be grouped or sorted on); the reply shows
// the LOADed fields (all with LOAD *) until a GROUPBY replaces the rows by
// one row per group holding the group properties and reducer outputs, as in
// RediSearch. APPLY, FILTER and WITHCURSOR are rejected with an error rather
// than ignored.
//
// Thread safety: as SearchIndex::Search (takes the index's shared lock).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "search/query.h"
#include "search/search_index.h"

namespace ragkv::search {

using AggregateRow = std::vector<std::pair<std::string, std::string>>;

struct AggregateResult {
  uint64_t total = 0;  // rows before the final LIMIT
  std::vector<AggregateRow> rows;
  bool timed_out = false;  // partial rows (ON_TIMEOUT RETURN), as SearchResult
};

// Runs `request` (its query is consumed) over `index`. kInvalidArgument for unsupported steps or the
// query errors of SearchIndex::Search. Cost: the query, plus O(rows log rows)
// per SORTBY and O(rows) per GROUPBY. `deadline` as in SearchIndex::Search;
// it is also checked before each pipeline step (under RETURN the steps still
// run, over the partial rows: they are in memory and bounded by then).
Result<AggregateResult> RunAggregate(const SearchIndex& index, AggregateRequest request,
                                     const HashLoader& load, uint64_t max_results,
                                     const QueryDeadline& deadline = {});

}  // namespace ragkv::search
