// Family H, the handler resources: GET and PATCH /4/handlers/{extractor|verify|identify}
// (API.md §4 H, §5 handler; policies in handler_policies.hpp, defaults in docs/HANDLERS.md).
// The one-request pipelines (POST) are in handler_pipelines.cpp.
#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/handler_policies.hpp"
#include "api/matching_core.hpp"
#include "api/objects.hpp"
#include "api/respond.hpp"
#include "core/clock.hpp"

namespace api {
namespace json = boost::json;
using core::Errc;
using store::HandlerType;

namespace {
constexpr HandlerType kTypes[] = {HandlerType::Extractor, HandlerType::Verify, HandlerType::Identify};
}  // namespace

PolicyDefaults Api::policy_defaults() const { return PolicyDefaults{opt_.verify_threshold}; }

void Api::AddHandlerRoutes() {
  for (HandlerType type : kTypes) {
    const std::string path = "/4/handlers/" + std::string(store::HandlerTypeName(type));

    Route("GET", path, Access::TokenOrBasic, [this, type](Call& c) -> core::Result<http::Response> {
      auto h = LoadHandler(store_, c.who.account_id, type, policy_defaults());
      if (!h) return std::move(h).error();
      return Json(200, json::object{{"handler_id", h->handler.id},
                                    {"create_time", core::IsoTime(h->handler.create_time_ms)},
                                    {"last_update_time", core::IsoTime(h->handler.last_update_ms)},
                                    {"policies", PoliciesJson(h->policies)},
                                    {"type", store::HandlerTypeName(type)},
                                    {"version", h->handler.version}});
    });

    // Validates (12022: not an object, unknown key, no key, value out of range), checks a
    // list_id (the account's persons list: 22003 / 22010), then merges the keys and bumps the
    // version in one store statement, so concurrent PATCHes never lose a version.
    Route("PATCH", path, Access::TokenOrBasic, [this, type](Call& c) -> core::Result<http::Response> {
      auto body = schema::ParseBody(c.req, PolicySchema(type));
      if (!body) return std::move(body).error();
      const json::object& o = body->as_object();
      if (const json::value* list = o.if_contains("list_id")) {
        if (auto st = matching_detail::RequirePersonsList(store_, c.who.account_id, std::string(list->as_string()));
            !st)
          return st.error();
      }
      auto version = store_.PatchHandlerPolicies(c.who.account_id, type, json::serialize(o), core::NowMillis());
      if (!version) return std::move(version).error();
      if (!version->has_value())
        return core::InternalError("account " + c.who.account_id + " has no " +
                                   std::string(store::HandlerTypeName(type)) + " handler");
      return Json(200, json::object{{"version", **version}});
    });
  }
}

}  // namespace api
