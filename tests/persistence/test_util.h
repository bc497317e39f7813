// Helpers shared by the persistence tests: a visitor that records what a load
// delivered, and a tiny reference model of a keyspace (strings only) that
// replayed logs are compared against.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "persistence/aof.h"

namespace ragkv::persistence::testing {

using Command = std::pair<int, std::vector<std::string>>;  // (db, argv)

class CollectingVisitor : public AofVisitor {
 public:
  Status OnEntry(SnapshotEntry& e) override {
    entries.push_back(e);
    return Status::Ok();
  }
  Status OnSection(std::string_view name, std::string_view blob) override {
    sections.emplace_back(std::string(name), std::string(blob));
    return Status::Ok();
  }
  Status OnCommand(int db, std::vector<std::string>& argv) override {
    commands.emplace_back(db, argv);
    return Status::Ok();
  }

  std::vector<SnapshotEntry> entries;
  std::vector<std::pair<std::string, std::string>> sections;
  std::vector<Command> commands;
};

// (db, key) -> value, built from string entries and SET/DEL commands.
using Model = std::map<std::pair<int, std::string>, std::string>;

inline void ApplyToModel(const Command& c, Model* m) {
  const auto& argv = c.second;
  if (argv[0] == "SET" && argv.size() == 3) (*m)[{c.first, argv[1]}] = argv[2];
  if (argv[0] == "DEL" && argv.size() == 2) m->erase({c.first, argv[1]});
}

inline Model ModelFrom(const CollectingVisitor& v) {
  Model m;
  for (const auto& e : v.entries) m[{e.db, e.key}] = e.value;
  for (const auto& c : v.commands) ApplyToModel(c, &m);
  return m;
}

// prefix + decimal i. (Spelled out because g++ 12 warns, wrongly, about
// `"literal" + std::to_string(i)` under -O2: -Wrestrict, GCC PR 105651.)
inline std::string Key(std::string_view prefix, int64_t i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

inline std::vector<std::string_view> Views(const std::vector<std::string>& argv) {
  return {argv.begin(), argv.end()};
}

}  // namespace ragkv::persistence::testing
