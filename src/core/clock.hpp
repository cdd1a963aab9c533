#pragma once
// Wall-clock helpers: ISO 8601 UTC with milliseconds ("2018-08-11T09:11:41.674Z").
#include <cstdint>
#include <string>

namespace core {

int64_t NowMillis();                 // Unix time in milliseconds
std::string IsoTime(int64_t unix_ms);  // 2018-08-11T09:11:41.674Z

}  // namespace core
