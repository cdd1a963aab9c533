#pragma once
// Routing table: method + path pattern -> handler. Patterns are '/'-separated segments;
// "{id}" matches a lowercase uuid4 only (so a malformed id is an unknown path),
// "{id}_{thumb}" a uuid4 followed by _32, _64, _96 or _160 (two params), "{any}" any
// non-empty segment. Matching is exact (no prefixes, no trailing slash).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace http {

using Handler = std::function<Response(Request&)>;

class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    Handler handler;
  };
  struct Match {
    const Route* route = nullptr;    // set when method and path match
    bool path_known = false;         // some route has this path
    std::string allow;               // methods of the path, comma separated, incl. OPTIONS;
                                     // filled only when route is null (405, OPTIONS)
  };

  void Add(std::string method, std::string pattern, Handler handler);
  // On a hit, fills req.path_params with the values of the {…} segments.
  Match Find(Request& req) const;
  // The route for method + path or null, without filling parameters (cheap: no allocation).
  const Route* Lookup(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  static bool MatchPattern(std::string_view pattern, std::string_view path, std::vector<std::string>* params);
  std::vector<Route> routes_;
};

}  // namespace http
