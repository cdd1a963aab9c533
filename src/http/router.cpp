#include "http/router.hpp"

#include <algorithm>

#include "core/uuid.hpp"

namespace http {

void Router::Add(std::string method, std::string pattern, Handler handler) {
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(handler)});
}

bool Router::MatchPattern(std::string_view pattern, std::string_view path, std::vector<std::string>* params) {
  std::vector<std::string> found;
  while (true) {
    if (pattern.empty() || path.empty()) {
      if (!pattern.empty() || !path.empty()) return false;
      break;
    }
    if (pattern[0] != '/' || path[0] != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    auto pe = pattern.find('/');
    auto se = path.find('/');
    std::string_view pseg = pattern.substr(0, pe), seg = path.substr(0, se);
    if (pseg == "{id}") {
      if (!core::IsUuid4(seg)) return false;
      if (params) found.emplace_back(seg);
    } else if (pseg == "{id}_{thumb}") {
      // Portrait thumbnails: <uuid4>_<32|64|96|160>.
      if (seg.size() < 38 || !core::IsUuid4(seg.substr(0, 36)) || seg[36] != '_') return false;
      std::string_view t = seg.substr(37);
      if (t != "32" && t != "64" && t != "96" && t != "160") return false;
      if (params) {
        found.emplace_back(seg.substr(0, 36));
        found.emplace_back(t);
      }
    } else if (pseg == "{any}") {
      if (seg.empty()) return false;
      if (params) found.emplace_back(seg);
    } else if (pseg != seg) {
      return false;
    }
    pattern = pe == std::string_view::npos ? std::string_view{} : pattern.substr(pe);
    path = se == std::string_view::npos ? std::string_view{} : path.substr(se);
  }
  if (params) *params = std::move(found);
  return true;
}

const Router::Route* Router::Lookup(std::string_view method, std::string_view path) const {
  for (const auto& r : routes_)
    if (r.method == method && MatchPattern(r.pattern, path, nullptr)) return &r;
  return nullptr;
}

Router::Match Router::Find(Request& req) const {
  Match m;
  // The common case first: a route for this method and path. Only a miss needs the list of
  // the path's methods (for 405's Allow and OPTIONS), which costs a walk over every route.
  for (const auto& r : routes_) {
    if (r.method != req.method) continue;
    std::vector<std::string> params;
    if (!MatchPattern(r.pattern, req.path, &params)) continue;
    m.route = &r;
    m.path_known = true;
    req.path_params = std::move(params);
    return m;
  }
  std::vector<std::string> methods;
  for (const auto& r : routes_) {
    if (!MatchPattern(r.pattern, req.path, nullptr)) continue;
    m.path_known = true;
    if (std::find(methods.begin(), methods.end(), r.method) == methods.end()) methods.push_back(r.method);
  }
  if (m.path_known) {
    methods.push_back("OPTIONS");
    for (std::size_t i = 0; i < methods.size(); ++i) {
      if (i) m.allow += ", ";
      m.allow += methods[i];
    }
  }
  return m;
}

}  // namespace http
