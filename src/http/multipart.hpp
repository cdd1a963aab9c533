#pragma once
// A strict multipart/form-data parser (RFC 7578 over RFC 2046 §5.1) for request bodies that
// carry several files (POST /4/liveness). It never copies part bodies (they are views into
// the request body), never allocates more than O(number of parts), and rejects anything it
// does not fully understand rather than guessing:
//  - the boundary comes from the Content-Type parameter `boundary` (quoted or not), 1..70
//    characters of the RFC 2046 bchars set, not ending in a space;
//  - the body is: an optional preamble ending in CRLF, then "--boundary" delimiters, each
//    followed by optional transport padding (spaces/tabs) and CRLF, the part's header lines,
//    an empty line and the part's bytes; the close delimiter "--boundary--" ends the body
//    (an epilogue after it is ignored). A body without the close delimiter is malformed;
//  - every part needs `Content-Disposition: form-data; name="…"` (filename optional);
//    header lines are "Name: value" with a token name, CRLF-terminated, no obsolete line
//    folding; a part's header block is at most limits.max_header_bytes; a header line
//    without a colon, a duplicated Content-Disposition, an unterminated quoted string or a
//    parameter without a value is malformed.
// Errors: core::Errc::MalformedMultipart {what is wrong} (400) and core::Errc::LimitExceeded
// {which limit} (413) for more than max_parts parts or a part over max_part_bytes.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace http {

struct MultipartPart {
  std::string name;                     // form field name (Content-Disposition name)
  std::optional<std::string> filename;  // Content-Disposition filename, when given
  std::string content_type;             // media type lower-cased without parameters; "" when absent
  std::string_view body;                // the part's bytes: a view into the parsed body
};

struct MultipartLimits {
  std::size_t max_parts = 64;
  std::size_t max_part_bytes = 16u << 20;
  std::size_t max_header_bytes = 8192;  // per part, the whole header block
};

// The boundary of a `multipart/form-data; boundary=…` Content-Type value (the media type is
// compared case-insensitively). MalformedMultipart when it is another type or the boundary is
// missing or invalid.
core::Result<std::string> MultipartBoundary(std::string_view content_type);

// Parses the body; the parts' views stay valid as long as `body` does.
core::Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                        const MultipartLimits& limits = {});

}  // namespace http
