#pragma once
// INTERNAL to fp_store: small helpers every backend (and the portrait store) shares.
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <string_view>

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

}  // namespace store
