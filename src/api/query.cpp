#include "api/query.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/uuid.hpp"

namespace api {
using core::Errc;

namespace {
core::Error Bad(const std::string& name) { return core::Error(Errc::BadQueryParam, {name}); }
}  // namespace

core::Result<std::optional<int64_t>> OptionalIntParam(const http::Request& req, const std::string& name, int64_t min,
                                                      int64_t max) {
  const std::string* v = req.Query(name);
  if (!v) return std::optional<int64_t>{};
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size() || out < min || out > max) return Bad(name);
  return std::optional<int64_t>{out};
}

core::Result<int64_t> IntParam(const http::Request& req, const std::string& name, int64_t def, int64_t min,
                               int64_t max) {
  auto r = OptionalIntParam(req, name, min, max);
  if (!r) return std::move(r).error();
  return r->value_or(def);
}

core::Result<Pagination> ParsePagination(const http::Request& req) {
  auto page = IntParam(req, "page", 1, 1, INT64_MAX);
  if (!page) return std::move(page).error();
  auto size = IntParam(req, "page_size", 10, 1, 1000);
  if (!size) return std::move(size).error();
  return Pagination{*page, *size};
}

core::Result<std::optional<double>> NumberParam(const http::Request& req, const std::string& name) {
  const std::string* v = req.Query(name);
  if (!v) return std::optional<double>{};
  double out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size() || !std::isfinite(out)) return Bad(name);
  return std::optional<double>{out};
}

core::Result<bool> FlagParam(const http::Request& req, const std::string& name, bool def) {
  auto r = IntParam(req, name, def ? 1 : 0, 0, 1);
  if (!r) return std::move(r).error();
  return *r == 1;
}

core::Result<std::optional<std::string>> UuidParam(const http::Request& req, const std::string& name, bool required) {
  const std::string* v = req.Query(name);
  if (!v) {
    if (required) return core::Error(Errc::MissingQueryParam, {name});
    return std::optional<std::string>{};
  }
  if (!core::IsUuid4(*v)) return Bad(name);
  return std::optional<std::string>{*v};
}

core::Result<std::optional<std::string>> EnumParam(const http::Request& req, const std::string& name,
                                                   const std::vector<std::string>& allowed, bool required) {
  const std::string* v = req.Query(name);
  if (!v) {
    if (required) return core::Error(Errc::MissingQueryParam, {name});
    return std::optional<std::string>{};
  }
  if (std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) return Bad(name);
  return std::optional<std::string>{*v};
}

core::Result<std::optional<std::string>> StringParam(const http::Request& req, const std::string& name,
                                                     std::size_t max_len) {
  const std::string* v = req.Query(name);
  if (!v) return std::optional<std::string>{};
  if (v->find('\0') != std::string::npos) return Bad(name);  // "%00": see json_schema.cpp
  std::size_t chars = 0;
  for (unsigned char c : *v) chars += (c & 0xC0) != 0x80;
  if (chars > max_len) return Bad(name);
  return std::optional<std::string>{*v};
}

}  // namespace api
