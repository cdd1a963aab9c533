#pragma once
// Transport-neutral request/response values handed between the server and the handlers.
// Header names are compared case-insensitively; query parameters are percent-decoded.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http {

using Fields = std::vector<std::pair<std::string, std::string>>;

// Problems found by the transport before a handler could run. The dispatcher turns them into
// the service's error body so that every response gets the same request id, CORS and logging.
enum class TransportError { None, BodyTooLarge, BadRequest };

struct Request {
  std::string method;             // upper case, e.g. "GET"
  std::string target;             // raw request target
  std::string path;               // target without the query string, percent-decoded
  Fields query;                   // decoded name/value pairs in order
  Fields headers;
  std::string body;
  std::string remote_address;
  std::vector<std::string> path_params;  // filled by the router ({id} segments, in order)
  TransportError transport_error = TransportError::None;
  int64_t received_at_us = 0;     // steady clock, for latency logging
  // Set by the dispatcher for logging: the request id and the authenticated account id.
  std::string request_id;
  std::string principal;
  std::string log_path;           // path to log when it differs from `path` (secrets redacted)

  // First header / query parameter with that name, or nullptr.
  const std::string* Header(std::string_view name) const;
  const std::string* Query(std::string_view name) const;
  bool HasQuery(std::string_view name) const { return Query(name) != nullptr; }
};

struct Response {
  unsigned status = 200;
  Fields headers;
  std::string body;

  void Set(std::string_view name, std::string value);  // replaces an existing header
  const std::string* Header(std::string_view name) const;
};

bool IEquals(std::string_view a, std::string_view b);
// Parses "a=1&b=%20x" (also '+' as space). Malformed escapes are kept literally.
Fields ParseQuery(std::string_view query);
std::string PercentDecode(std::string_view s, bool plus_as_space);
int64_t SteadyMicros();

}  // namespace http
