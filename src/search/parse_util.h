// Helpers shared by the search executor and the FT.* commands (internal).
#pragma once

#include <string>
#include <string_view>

#include "search/arg_parsing.h"

namespace ragkv::search {

// RediSearch's rendering of yielded numbers (distances, scores): "%lld" when
// integral, else "%.12g", e.g. "0", "0.181482315063", "3.09485009821e+26".
std::string FormatSearchNumber(double v);

}  // namespace ragkv::search
