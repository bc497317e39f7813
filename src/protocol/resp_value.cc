#include "protocol/resp_value.h"

namespace ragkv::resp {

std::string RespValue::DebugString() const {
  switch (type) {
    case RespType::kSimpleString: return "+" + str;
    case RespType::kError: return "-" + str;
    case RespType::kInteger: return "(int " + std::to_string(integer) + ")";
    case RespType::kBulkString: return "\"" + str + "\"";
    case RespType::kNull: return "(nil)";
    case RespType::kDouble: return "(double " + str + ")";
    case RespType::kBoolean: return integer ? "(true)" : "(false)";
    case RespType::kBigNumber: return "(big " + str + ")";
    case RespType::kVerbatim: return "(verbatim \"" + str + "\")";
    case RespType::kArray:
    case RespType::kMap:
    case RespType::kSet:
    case RespType::kPush: {
      const char* open = type == RespType::kMap ? "{" : type == RespType::kSet ? "~[" :
                         type == RespType::kPush ? ">[" : "[";
      std::string s = open;
      for (size_t i = 0; i < elements.size(); ++i) {
        if (i) s += (type == RespType::kMap && i % 2 == 1) ? ": " : ", ";
        s += elements[i].DebugString();
      }
      s += type == RespType::kMap ? "}" : "]";
      return s;
    }
  }
  return "?";
}

}  // namespace ragkv::resp
