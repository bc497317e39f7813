// libFuzzer entry point: feeds arbitrary bytes to both RESP parsers, whole and
// split in two at an offset taken from the input, with tight limits so both
// the authenticated and the unauthenticated paths are explored. Any crash,
// sanitizer report or disagreement between whole and split parsing is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "protocol/reply_parser.h"
#include "protocol/request_parser.h"

namespace {

using ragkv::resp::ParseStatus;
using ragkv::resp::RequestParser;

// Parses every request in `data`, feeding `prefix` bytes first. Returns the
// concatenated args and the final status as a transcript.
std::string Transcript(const std::string& data, size_t prefix, bool unauth) {
  RequestParser parser;
  ragkv::resp::RequestLimits limits;
  limits.max_bulk_len = 1 << 16;
  limits.max_inline_len = 1024;
  limits.unauthenticated = unauth;
  parser.set_limits(limits);
  std::string out;
  size_t start = 0;
  size_t avail = prefix;
  while (true) {
    std::string_view view(data.data() + start, avail - start);
    ParseStatus s = parser.Parse(view);
    if (s == ParseStatus::kComplete) {
      out += "[";
      for (auto a : parser.args()) out.append(a).append("|");
      out += "]";
      start += parser.consumed();
      continue;
    }
    if (s == ParseStatus::kError) return out + "E:" + std::string(parser.error());
    if (avail == data.size()) return out + "N";
    avail = data.size();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string data(reinterpret_cast<const char*>(bytes), size);
  size_t split = size == 0 ? 0 : bytes[0] % (size + 1);
  for (bool unauth : {false, true}) {
    if (Transcript(data, size, unauth) != Transcript(data, split, unauth)) std::abort();
  }
  ragkv::resp::RespValue v;
  std::string_view rest(data);
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    auto r = ragkv::resp::ParseReply(rest, &v);
    if (r.status != ParseStatus::kComplete) break;
    if (r.consumed == 0 || r.consumed > rest.size()) std::abort();
    rest.remove_prefix(r.consumed);
  }
  return 0;
}
