#pragma once
// Standard base64 (RFC 4648, '+/' alphabet, '=' padding). Decoding is strict about the
// alphabet and padding but tolerates ASCII whitespace (line-wrapped MIME bodies).
#include <optional>
#include <string>
#include <string_view>

namespace core {

std::string Base64Encode(std::string_view bytes);
// nullopt on any character outside the alphabet, bad padding or a truncated quantum.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace core
