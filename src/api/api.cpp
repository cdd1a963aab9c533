#include "api/api.hpp"

#include <algorithm>
#include <cstdio>

#include "api/errors.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"

namespace api {
using core::Errc;

namespace {
// ^[0-9]{10},<uuid4>$
bool IsValidRequestId(const std::string& s) {
  if (s.size() != 11 + 36 || s[10] != ',') return false;
  for (int i = 0; i < 10; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return core::IsUuid4(std::string_view(s).substr(11));
}

std::string NewRequestId() {
  char buf[24];  // 10 digits until the year 2286; room for any long long so nothing truncates
  std::snprintf(buf, sizeof buf, "%010lld", static_cast<long long>(core::NowMillis() / 1000));
  return std::string(buf) + "," + core::NewRequestUuid4();
}
}  // namespace

Api::Api(store::Store& store, Authenticator& auth, ApiOptions options, ServiceInfo info, face::Engine* engine,
         store::PortraitStore* portraits, IndexFollower* matcher)
    : store_(store), auth_(auth), engine_(engine), portraits_(portraits), matcher_(matcher), opt_(std::move(options)),
      info_(std::move(info)) {
  AddServiceRoutes();
  AddAccountRoutes();
  AddDescriptorRoutes();
  AddPersonRoutes();
  AddListRoutes();
  AddMatchingRoutes();
  AddVerifyRawRoutes();
  AddHandlerRoutes();
  AddHandlerPipelineRoutes();
  AddLivenessRoutes();
}

void Api::Route(const std::string& method, const std::string& pattern, Access access, CallHandler handler,
                PathLog path_log) {
  std::string redacted;
  if (path_log == PathLog::Secret) {
    redacted = pattern;
    for (auto p = redacted.find("{id}"); p != std::string::npos; p = redacted.find("{id}")) redacted.replace(p, 4, "***");
  }
  router_.Add(method, pattern, [this, access, redacted, handler = std::move(handler)](http::Request& req) {
    if (!redacted.empty()) req.log_path = redacted;
    Call call{req, {}};
    if (access != Access::Public) {
      auto who = auth_.Authenticate(req, access == Access::BasicOnly ? AuthMode::BasicOnly : AuthMode::TokenOrBasic);
      if (!who) {
        auto r = ErrorResponse(who.error(), &req);
        if (who.error().code == Errc::TooManyRequests) r.Set("Retry-After", std::to_string(auth_.retry_after_s()));
        return r;
      }
      call.who = std::move(*who);
      req.principal = call.who.account_id;
    }
    auto res = handler(call);
    if (!res) return ErrorResponse(res.error(), &req);
    return std::move(*res);
  });
}

bool Api::IsLight(const http::Request& req) const {
  static const std::string_view kLight[] = {"/version", "/4/healthcheck", "/4/account/tokens/{id}",
                                            "/4/storage/persons/{id}", "/4/storage/descriptors/{id}"};
  if (req.method != "GET") return false;
  const auto* route = router_.Lookup(req.method, req.path);
  if (!route || std::find(std::begin(kLight), std::end(kLight), route->pattern) == std::end(kLight)) return false;
  return req.Header("X-Auth-Token") != nullptr || req.Header("Authorization") == nullptr;
}

http::Response Api::Handle(http::Request& req) {
  switch (req.transport_error) {
    case http::TransportError::BodyTooLarge: return ErrorResponse(core::MakeError(Errc::BodyTooLarge), &req);
    case http::TransportError::BadRequest: return ErrorResponse(core::MakeError(Errc::BadHttpRequest), &req);
    case http::TransportError::None: break;
  }
  auto match = router_.Find(req);
  if (req.method == "OPTIONS") {
    if (!match.path_known) return ErrorResponse(core::MakeError(Errc::PageNotFound), &req);
    http::Response r;
    r.status = 200;
    r.Set("Allow", match.allow);
    r.Set("Access-Control-Allow-Methods", match.allow);
    r.Set("Access-Control-Allow-Headers", "Authorization, X-Auth-Token, Content-Type, Luna-Request-Id, Accept");
    r.Set("Access-Control-Max-Age", "600");
    return r;
  }
  if (!match.path_known) return ErrorResponse(core::MakeError(Errc::PageNotFound), &req);
  if (!match.route) {
    auto r = ErrorResponse(core::MakeError(Errc::MethodNotAllowed), &req);
    r.Set("Allow", match.allow);
    return r;
  }
  return match.route->handler(req);
}

void Api::Finish(const http::Request& req, http::Response& res) const {
  res.Set("Luna-Request-Id", req.request_id);
  res.Set("Access-Control-Allow-Origin", opt_.cors_origin);
  res.Set("Access-Control-Expose-Headers", "Luna-Request-Id");
}

http::Response Api::Dispatch(http::Request& req) {
  const std::string* rid = req.Header("Luna-Request-Id");
  req.request_id = rid && IsValidRequestId(*rid) ? *rid : NewRequestId();
  http::Response res;
  try {
    res = Handle(req);
  } catch (const std::exception& e) {
    res = ErrorResponse(core::InternalError(std::string("unhandled exception: ") + e.what()), &req);
  }
  Finish(req, res);
  double latency_ms = req.received_at_us ? (http::SteadyMicros() - req.received_at_us) / 1000.0 : 0.0;
  core::Log(core::LogLevel::Info, "request",
            {{"request_id", req.request_id},
             {"account_id", req.principal},
             {"method", req.method},
             {"path", req.log_path.empty() ? req.path : req.log_path},
             {"status", static_cast<int64_t>(res.status)},
             {"latency_ms", latency_ms},
             {"bytes_in", req.body.size()},
             {"bytes_out", res.body.size()},
             {"remote", req.remote_address}});
  return res;
}

}  // namespace api
