#pragma once
// Query-parameter parsing with the LUNA errors: a malformed or out-of-range value is 12012
// naming the parameter, a missing required one is 12014.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "http/message.hpp"

namespace api {

struct Pagination {
  int64_t page = 1;
  int64_t page_size = 10;
};

// page >= 1 (default 1), page_size 1..1000 (default 10).
core::Result<Pagination> ParsePagination(const http::Request& req);
// Integer in [min, max]; default when absent.
core::Result<int64_t> IntParam(const http::Request& req, const std::string& name, int64_t def, int64_t min,
                               int64_t max);
// Optional integer in [min, max] (nullopt when absent).
core::Result<std::optional<int64_t>> OptionalIntParam(const http::Request& req, const std::string& name,
                                                      int64_t min, int64_t max);
// Optional finite number (nullopt when absent); 12012 when not a number. Range checks are the
// caller's (some ranges are errors, angle thresholds outside 0..180 are ignored).
core::Result<std::optional<double>> NumberParam(const http::Request& req, const std::string& name);
// 0/1 flag.
core::Result<bool> FlagParam(const http::Request& req, const std::string& name, bool def);
// uuid4 (lowercase). Required ones are 12014 when absent.
core::Result<std::optional<std::string>> UuidParam(const http::Request& req, const std::string& name, bool required);
// One of the allowed values.
core::Result<std::optional<std::string>> EnumParam(const http::Request& req, const std::string& name,
                                                   const std::vector<std::string>& allowed, bool required);
// Free string with a maximum length in characters.
core::Result<std::optional<std::string>> StringParam(const http::Request& req, const std::string& name,
                                                     std::size_t max_len);

}  // namespace api
