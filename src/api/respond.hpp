#pragma once
// Small helpers shared by the resource files to build responses.
#include <boost/json/value.hpp>
#include <string>

#include "http/message.hpp"

namespace api {

http::Response Json(unsigned status, const boost::json::value& body);
http::Response NoContent();
http::Response Redirect(const std::string& location);

}  // namespace api
