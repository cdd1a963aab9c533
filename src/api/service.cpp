// Family S: version, health check, configuration, OpenAPI document, developer manual.
#include <boost/json.hpp>
#include <chrono>

#include "api/api.hpp"
#include "api/query.hpp"
#include "api/respond.hpp"

namespace api {
namespace json = boost::json;
using core::Errc;

namespace {
bool AcceptIncludes(const http::Request& req, std::string_view mime) {
  const std::string* a = req.Header("Accept");
  if (!a) return false;
  std::string_view s(*a);
  while (!s.empty()) {
    auto comma = s.find(',');
    std::string_view part = s.substr(0, comma);
    part = part.substr(0, part.find(';'));
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (http::IEquals(part, mime)) return true;
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return false;
}

http::Response Text(unsigned status, std::string body, const char* type) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.Set("Content-Type", type);
  return r;
}
}  // namespace

void Api::AddServiceRoutes() {
  Route("GET", "/version", Access::Public, [this](Call&) -> core::Result<http::Response> {
    int major = 0, minor = 0, patch = 0;
    std::sscanf(info_.version.c_str(), "%d.%d.%d", &major, &minor, &patch);
    return Json(200, json::object{{"Version", json::object{{"api", 4},
                                                           {"service", "faceport"},
                                                           {"version", info_.version},
                                                           {"major", major},
                                                           {"minor", minor},
                                                           {"patch", patch}}}});
  });

  Route("GET", "/healthcheck", Access::Public, [](Call& c) -> core::Result<http::Response> {
    auto q = c.req.target.find('?');
    return Redirect("/4/healthcheck" + (q == std::string::npos ? std::string() : c.req.target.substr(q)));
  });

  Route("GET", "/4/healthcheck", Access::Public, [this](Call& c) -> core::Result<http::Response> {
    if (auto p = IntParam(c.req, "include_luna_services", 0, 0, 1); !p) return std::move(p).error();
    auto t0 = std::chrono::steady_clock::now();
    std::string failed;
    if (auto st = info_.database_health ? info_.database_health() : store_.Ping(); !st) failed += "database";
    if (!info_.models_health) {
      failed += failed.empty() ? "models (not configured)" : ", models (not configured)";
    } else if (auto st = info_.models_health(); !st) {
      failed += (failed.empty() ? "models: " : ", models: ") + st.error().log_detail;
    }
    if (!failed.empty()) return core::Error(Errc::HealthCheckFailed, {failed}, "health check failed: " + failed);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return Json(200, json::object{{"execution_time", secs}});
  });

  Route("GET", "/4/config", Access::Public, [this](Call& c) -> core::Result<http::Response> {
    if (AcceptIncludes(c.req, "text/plain") && !AcceptIncludes(c.req, "application/json")) {
      std::string out;
      for (const auto& item : info_.config) out += item.name + " = " + item.value + "\n";
      return Text(200, std::move(out), "text/plain; charset=utf-8");
    }
    // Typed like the settings table says; a masked secret stays the string "***".
    json::object o;
    for (const auto& item : info_.config) {
      bool masked = item.value == "***";
      if (masked || item.type == core::SettingType::String) o[item.name] = item.value;
      else if (item.type == core::SettingType::Bool) o[item.name] = item.value == "true" || item.value == "1" || item.value == "yes" || item.value == "on";
      else if (item.type == core::SettingType::Int) o[item.name] = std::stoll(item.value);
      else o[item.name] = std::stod(item.value);
    }
    return Json(200, o);
  });

  Route("GET", "/4/docs/spec", Access::Public, [this](Call& c) -> core::Result<http::Response> {
    if (AcceptIncludes(c.req, "application/x-yaml")) return Text(200, info_.openapi_yaml, "application/x-yaml");
    if (AcceptIncludes(c.req, "text/html")) return Text(200, info_.openapi_html, "text/html; charset=utf-8");
    return core::MakeError(Errc::UnsupportedMediaType);
  });

  // The reference redirects to its Sphinx manual at /docs/dev/index.html; ours is the
  // project's documents rendered into one page at build time (scripts/devmanual_html.py).
  Route("GET", "/4/docs/dev", Access::Public,
        [](Call&) -> core::Result<http::Response> { return Redirect("/docs/dev/index.html"); });
  Route("GET", "/docs/dev/index.html", Access::Public, [this](Call&) -> core::Result<http::Response> {
    return Text(200, info_.dev_manual_html, "text/html; charset=utf-8");
  });
}

}  // namespace api
