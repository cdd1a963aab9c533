#include "api/respond.hpp"

#include <boost/json.hpp>

namespace api {

http::Response Json(unsigned status, const boost::json::value& body) {
  http::Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  r.Set("Content-Type", "application/json");
  return r;
}

http::Response NoContent() {
  http::Response r;
  r.status = 204;
  return r;
}

http::Response Redirect(const std::string& location) {
  http::Response r;
  r.status = 301;
  r.Set("Location", location);
  return r;
}

}  // namespace api
