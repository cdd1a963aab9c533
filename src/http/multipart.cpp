#include "http/multipart.hpp"

#include <algorithm>
#include <functional>

#include "http/message.hpp"

namespace http {
namespace {

using core::Errc;

core::Error Malformed(std::string what) { return core::Error(Errc::MalformedMultipart, {std::move(what)}); }

constexpr std::string_view kCrlf = "\r\n";

bool IsTchar(char c) {  // RFC 9110 token characters
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsBchar(char c) {  // RFC 2046 bcharsnospace plus space
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `; name=value; name="quoted \" value"` parameters after a header's first token. Names are
// lower-cased; a repeated name keeps the first value. Malformed on any syntax error.
struct Param {
  std::string name, value;
};
core::Result<std::vector<Param>> ParseParams(std::string_view s) {
  std::vector<Param> out;
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  };
  for (;;) {
    skip_ws();
    if (i == s.size()) return out;
    if (s[i] != ';') return Malformed("expected ';' between header parameters");
    ++i;
    skip_ws();
    if (i == s.size()) return out;  // a trailing ';' is tolerated
    std::size_t start = i;
    while (i < s.size() && IsTchar(s[i])) ++i;
    if (i == start) return Malformed("empty header parameter name");
    Param p{Lower(s.substr(start, i - start)), {}};
    skip_ws();
    if (i == s.size() || s[i] != '=') return Malformed("header parameter '" + p.name + "' has no value");
    ++i;
    skip_ws();
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char c = s[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i == s.size()) break;
          c = s[i++];
        }
        p.value.push_back(c);
      }
      if (!closed) return Malformed("unterminated quoted string in header parameter '" + p.name + "'");
    } else {
      start = i;
      while (i < s.size() && IsTchar(s[i])) ++i;
      if (i == start) return Malformed("header parameter '" + p.name + "' has no value");
      p.value = std::string(s.substr(start, i - start));
    }
    if (std::none_of(out.begin(), out.end(), [&](const Param& q) { return q.name == p.name; }))
      out.push_back(std::move(p));
  }
}

// The header block of one part (without the blank line).
core::Status ParseHeaders(std::string_view block, MultipartPart& part) {
  bool disposition = false;
  while (!block.empty()) {
    const std::size_t eol = block.find(kCrlf);
    const std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    if (line.empty()) return Malformed("empty header line");
    if (line.front() == ' ' || line.front() == '\t') return Malformed("folded header lines are not accepted");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Malformed("part header line without a name");
    const std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), IsTchar)) return Malformed("invalid part header name");
    const std::string_view value = Trim(line.substr(colon + 1));
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
      return Malformed("control character in a part header");
    if (IEquals(name, "Content-Disposition")) {
      if (disposition) return Malformed("repeated Content-Disposition");
      disposition = true;
      const std::size_t semi = value.find(';');
      if (!IEquals(Trim(value.substr(0, semi)), "form-data")) return Malformed("Content-Disposition is not form-data");
      auto params = ParseParams(semi == std::string_view::npos ? std::string_view() : value.substr(semi));
      if (!params) return std::move(params).error();
      bool named = false;
      for (auto& p : *params) {
        if (p.name == "name") {
          part.name = std::move(p.value);
          named = true;
        } else if (p.name == "filename") {
          part.filename = std::move(p.value);
        }
      }
      if (!named) return Malformed("Content-Disposition without a name");
    } else if (IEquals(name, "Content-Type")) {
      const std::string_view media = Trim(value.substr(0, value.find(';')));
      if (media.empty()) return Malformed("empty part Content-Type");
      part.content_type = Lower(media);
    }
    // Other headers (Content-Transfer-Encoding and the like) are ignored, as RFC 7578 says.
  }
  if (!disposition) return Malformed("part without Content-Disposition");
  return {};
}

}  // namespace

core::Result<std::string> MultipartBoundary(std::string_view content_type) {
  const std::size_t semi = content_type.find(';');
  if (!IEquals(Trim(content_type.substr(0, semi)), "multipart/form-data"))
    return Malformed("Content-Type is not multipart/form-data");
  auto params = ParseParams(semi == std::string_view::npos ? std::string_view() : content_type.substr(semi));
  if (!params) return std::move(params).error();
  for (const auto& p : *params) {
    if (p.name != "boundary") continue;
    const std::string& b = p.value;
    if (b.empty() || b.size() > 70 || b.back() == ' ' || !std::all_of(b.begin(), b.end(), IsBchar))
      return Malformed("invalid boundary");
    return b;
  }
  return Malformed("no boundary parameter");
}

core::Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                        const MultipartLimits& limits) {
  if (boundary.empty() || boundary.size() > 70) return Malformed("invalid boundary");
  // Every delimiter but a first one at offset 0 is "CRLF--boundary". Searching for the whole
  // delimiter with Boyer-Moore keeps hostile bodies (near-miss boundaries everywhere) linear.
  const std::string delimiter = "\r\n--" + std::string(boundary);
  const std::boyer_moore_searcher searcher(delimiter.begin(), delimiter.end());
  auto find_delimiter = [&](std::size_t from) -> std::size_t {
    if (from > body.size()) return std::string_view::npos;
    auto it = std::search(body.begin() + from, body.end(), searcher);
    return it == body.end() ? std::string_view::npos : static_cast<std::size_t>(it - body.begin());
  };

  // The first delimiter: at the very start, or after a preamble ending in CRLF.
  std::size_t pos;
  if (body.substr(0, delimiter.size() - 2) == std::string_view(delimiter).substr(2)) {
    pos = delimiter.size() - 2;
  } else {
    const std::size_t d = find_delimiter(0);
    if (d == std::string_view::npos) return Malformed("no boundary delimiter in the body");
    pos = d + delimiter.size();
  }

  std::vector<MultipartPart> parts;
  for (;;) {
    // Just after a delimiter: "--" closes the body; otherwise padding and CRLF start a part.
    if (body.substr(pos, 2) == "--") return parts;
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != kCrlf) return Malformed("delimiter not followed by CRLF");
    pos += 2;
    if (parts.size() == limits.max_parts)
      return core::Error(Errc::LimitExceeded, {"more than " + std::to_string(limits.max_parts) + " parts"});

    // Headers: up to the first empty line, within max_header_bytes.
    MultipartPart part;
    std::size_t header_end;
    if (body.substr(pos, 2) == kCrlf) {
      header_end = pos;  // no header lines at all
    } else {
      const std::size_t window = std::min(body.size() - pos, limits.max_header_bytes + 4);
      const std::size_t blank = body.substr(pos, window).find("\r\n\r\n");
      if (blank == std::string_view::npos)
        return window == body.size() - pos ? Malformed("unterminated part headers")
                                           : Malformed("part headers longer than " +
                                                       std::to_string(limits.max_header_bytes) + " bytes");
      header_end = pos + blank + 2;
    }
    if (auto st = ParseHeaders(body.substr(pos, header_end - pos), part); !st) return std::move(st).error();
    pos = header_end + 2;

    // Body: up to the next delimiter.
    const std::size_t next = find_delimiter(pos);
    if (next == std::string_view::npos) return Malformed("part without a closing boundary delimiter");
    if (next - pos > limits.max_part_bytes)
      return core::Error(Errc::LimitExceeded, {"a part is larger than " + std::to_string(limits.max_part_bytes) + " bytes"});
    part.body = body.substr(pos, next - pos);
    parts.push_back(std::move(part));
    pos = next + delimiter.size();
  }
}

}  // namespace http
