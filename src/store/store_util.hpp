#pragma once
// INTERNAL to fp_store: small helpers every backend (and the portrait store) shares.
#include <array>
#include <bit>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/store.hpp"

namespace store {

// Runs fn, turning any exception (allocation failure, std::system_error from a mutex) into
// Errc::Internal: the store promises never to throw.
template <class Fn>
auto NoThrow(std::string_view what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return core::InternalError(std::string(what) + ": " + e.what());
  } catch (...) {
    return core::InternalError(std::string(what) + ": unknown exception");
  }
}

// OFFSET for a 1-based page. page and page_size are >= 1 here; (page - 1) * page_size can
// exceed int64 for absurd page numbers, in which case the page is certainly past the end.
inline int64_t PageOffset(int64_t page, int64_t page_size) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (page - 1 > kMax / page_size) return kMax;
  return (page - 1) * page_size;
}

// The three handlers every account has, and a stored type name back to its enum (the
// schema's CHECK constraint admits only HandlerTypeName's three names).
inline constexpr HandlerType kAllHandlerTypes[] = {HandlerType::Extractor, HandlerType::Verify, HandlerType::Identify};
inline HandlerType ParseHandlerType(std::string_view name) {
  if (name == "verify") return HandlerType::Verify;
  if (name == "identify") return HandlerType::Identify;
  return HandlerType::Extractor;
}

// A stored list type name ("persons" / "descriptors", the schemas' CHECK) and back.
inline std::string_view ListTypeName(ListType t) { return t == ListType::Persons ? "persons" : "descriptors"; }
inline ListType ParseListType(std::string_view name) {
  return name == "persons" ? ListType::Persons : ListType::Descriptors;
}

// A stored change kind name (ChangeKindName) back to its enum; nullopt for an unknown name.
inline std::optional<ChangeKind> ParseChangeKind(std::string_view name) {
  constexpr std::array kKinds = {ChangeKind::DescriptorAdded,     ChangeKind::DescriptorRemoved,
                                 ChangeKind::DescriptorPersonSet, ChangeKind::ListMemberAdded,
                                 ChangeKind::ListMemberRemoved,   ChangeKind::PersonRemoved,
                                 ChangeKind::ListRemoved};
  for (ChangeKind k : kKinds)
    if (ChangeKindName(k) == name) return k;
  return std::nullopt;
}

// Descriptor values as stored by both backends: little-endian float32, byte by byte, so the
// stored form is the same on every host and the bits (NaN payloads, -0.0) round-trip exactly.
static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559, "descriptors are stored as IEEE float32");
inline std::string EncodeValues(const std::vector<float>& values) {
  std::string out(values.size() * 4, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(values[i]);
    for (int k = 0; k < 4; ++k) out[i * 4 + k] = static_cast<char>((bits >> (8 * k)) & 0xffu);
  }
  return out;
}
inline std::vector<float> DecodeValues(std::string_view bytes) {
  std::vector<float> out(bytes.size() / 4);
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t bits = 0;
    for (int k = 0; k < 4; ++k) bits |= uint32_t{static_cast<unsigned char>(bytes[i * 4 + k])} << (8 * k);
    out[i] = std::bit_cast<float>(bits);
  }
  return out;
}

}  // namespace store
