// Family A: accounts and tokens (API.md §4 A, §3).
#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/json_schema.hpp"
#include "api/query.hpp"
#include "api/respond.hpp"
#include "core/clock.hpp"
#include "core/uuid.hpp"

namespace api {
namespace json = boost::json;
namespace s = schema;
using core::Errc;

namespace {
std::string Lower(std::string v) {
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v;
}

const s::NodePtr& RegisterSchema() {
  static const s::NodePtr n = s::Object({
      {"organization_name", s::String({}, 128), true},
      {"email", s::String({}, 64, s::Format::Email), true},
      {"password", s::String(8, 32), true},
  });
  return n;
}
// The reference marks token_data required for both create and patch.
const s::NodePtr& TokenDataSchema() {
  static const s::NodePtr n = s::Object({{"token_data", s::String({}, 128), true}});
  return n;
}
const s::NodePtr& DeleteTokensSchema() {
  static const s::NodePtr n = s::Object({{"tokens", s::Array(s::Uuid4(), {}, 1000), true}});
  return n;
}
}  // namespace

void Api::AddAccountRoutes() {
  Route("POST", "/4/accounts", Access::Public, [this](Call& c) -> core::Result<http::Response> {
    auto body = s::ParseBody(c.req, *RegisterSchema());
    if (!body) return std::move(body).error();
    const auto& o = body->as_object();
    store::Account a;
    a.id = core::NewUuid4();
    a.organization_name = json::value_to<std::string>(o.at("organization_name"));
    a.email = Lower(json::value_to<std::string>(o.at("email")));
    a.create_time_ms = core::NowMillis();
    auto hash = auth_.HashPassword(json::value_to<std::string>(o.at("password")));
    if (!hash) return std::move(hash).error();
    a.password_hash = std::move(*hash);
    store::Token t{core::NewUuid4(), a.id, "", a.create_time_ms};
    if (auto st = store_.CreateAccount(a, t); !st) return std::move(st).error();
    c.req.principal = a.id;
    return Json(201, json::object{{"token", t.id}});
  });

  Route("GET", "/4/account", Access::BasicOnly, [this](Call& c) -> core::Result<http::Response> {
    auto a = store_.FindAccountById(c.who.account_id);
    if (!a) return std::move(a).error();
    if (!a->has_value()) return core::MakeError(Errc::BadCredentials);
    return Json(200, json::object{{"organization_name", (*a)->organization_name},
                                  {"email", (*a)->email},
                                  {"suspended", (*a)->suspended}});
  });

  Route("GET", "/4/account/tokens", Access::BasicOnly, [this](Call& c) -> core::Result<http::Response> {
    auto page = ParsePagination(c.req);
    if (!page) return std::move(page).error();
    auto list = store_.ListTokens(c.who.account_id, {page->page, page->page_size});
    if (!list) return std::move(list).error();
    json::array tokens;
    for (const auto& t : list->items) tokens.push_back(json::object{{"id", t.id}, {"token_data", t.token_data}});
    return Json(200, json::object{{"tokens", std::move(tokens)}, {"count", list->count}});
  });

  Route("POST", "/4/account/tokens", Access::BasicOnly, [this](Call& c) -> core::Result<http::Response> {
    auto body = s::ParseBody(c.req, *TokenDataSchema());
    if (!body) return std::move(body).error();
    store::Token t{core::NewUuid4(), c.who.account_id,
                   json::value_to<std::string>(body->as_object().at("token_data")), core::NowMillis()};
    if (auto st = store_.CreateToken(t); !st) return std::move(st).error();
    return Json(201, json::object{{"token", t.id}});
  });

  // Unknown ids (including other accounts' tokens) are ignored: deleting them is a no-op.
  Route("DELETE", "/4/account/tokens", Access::BasicOnly, [this](Call& c) -> core::Result<http::Response> {
    auto body = s::ParseBody(c.req, *DeleteTokensSchema());
    if (!body) return std::move(body).error();
    std::vector<std::string> ids;
    for (const auto& v : body->as_object().at("tokens").as_array()) ids.push_back(json::value_to<std::string>(v));
    if (auto st = store_.DeleteTokens(c.who.account_id, ids); !st) return std::move(st).error();
    return NoContent();
  });

  Route("GET", "/4/account/tokens/{id}", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto t = store_.GetToken(c.who.account_id, c.req.path_params[0]);
    if (!t) return std::move(t).error();
    if (!t->has_value()) return core::MakeError(Errc::TokenNotFound);
    return Json(200, json::object{{"token_data", (*t)->token_data}});
  }, PathLog::Secret);

  Route("PATCH", "/4/account/tokens/{id}", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto body = s::ParseBody(c.req, *TokenDataSchema());
    if (!body) return std::move(body).error();
    auto ok = store_.UpdateTokenData(c.who.account_id, c.req.path_params[0],
                                     json::value_to<std::string>(body->as_object().at("token_data")));
    if (!ok) return std::move(ok).error();
    if (!*ok) return core::MakeError(Errc::TokenNotFound);
    return NoContent();
  }, PathLog::Secret);

  Route("DELETE", "/4/account/tokens/{id}", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto ok = store_.DeleteToken(c.who.account_id, c.req.path_params[0]);
    if (!ok) return std::move(ok).error();
    if (!*ok) return core::MakeError(Errc::TokenNotFound);
    return NoContent();
  }, PathLog::Secret);
}

}  // namespace api
