#include "server/errors.h"

#include <cctype>

namespace ragkv::server::errors {
namespace {
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}
// Redis truncates names echoed in errors to 128 bytes.
std::string_view Clip(std::string_view s) { return s.substr(0, 128); }
}  // namespace

std::string WrongArity(std::string_view command) {
  std::string s = "ERR wrong number of arguments for '";
  s.append(Lower(command)).append("' command");
  return s;
}

std::string UnknownCommand(std::string_view name, const std::string_view* args, size_t nargs) {
  std::string s = "ERR unknown command '";
  s.append(Clip(name)).append("', with args beginning with: ");
  for (size_t i = 0; i < nargs; ++i) {
    s.append("'").append(Clip(args[i])).append("' ");
  }
  return s;
}

std::string UnknownSubcommand(std::string_view sub, std::string_view command) {
  std::string s = "ERR unknown subcommand '";
  s.append(Clip(sub)).append("'. Try ").append(Upper(command)).append(" HELP.");
  return s;
}

std::string InvalidExpire(std::string_view command) {
  std::string s = "ERR invalid expire time in '";
  s.append(Lower(command)).append("' command");
  return s;
}

}  // namespace ragkv::server::errors
