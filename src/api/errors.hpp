#pragma once
// The one error table: each internal error kind (core::Errc) -> LUNA error_code, HTTP status
// and detail template ("{}" placeholders filled from Error::args in order).
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "http/message.hpp"

namespace api {

struct ErrorRow {
  core::Errc kind;
  int error_code;
  unsigned http_status;
  std::string_view detail_template;
};

std::span<const ErrorRow> ErrorTable();
const ErrorRow& RowFor(core::Errc kind);
std::string FormatDetail(const ErrorRow& row, const std::vector<std::string>& args);
// {"error_code":…, "detail":…} with Content-Type application/json, the row's status and,
// for 401, the WWW-Authenticate header. Internal errors are logged (with request id) here.
http::Response ErrorResponse(const core::Error& error, const http::Request* req = nullptr);

}  // namespace api
