// Family P: persons, their descriptors and their lists (API.md §4 P, §5; reference "persons").
#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/json_schema.hpp"
#include "api/objects.hpp"
#include "api/query.hpp"
#include "api/respond.hpp"
#include "core/clock.hpp"
#include "core/uuid.hpp"

namespace api {
namespace json = boost::json;
namespace s = schema;
using core::Errc;

namespace {
constexpr std::size_t kUserDataMax = 128;
constexpr std::size_t kExternalIdMax = 36;

const s::NodePtr& CreatePersonSchema() {
  static const s::NodePtr n = s::Object({
      {"user_data", s::String({}, kUserDataMax), false},
      {"external_id", s::String({}, kExternalIdMax), false},
  });
  return n;
}
// "Required user data or external id in body": at least one of the two.
const s::NodePtr& PatchPersonSchema() {
  static const s::NodePtr n = s::Object(
      {
          {"user_data", s::String({}, kUserDataMax), false},
          {"external_id", s::String({}, kExternalIdMax), false},
      },
      1);
  return n;
}

std::optional<std::string> OptionalString(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  return json::value_to<std::string>(it->value());
}

core::Result<store::LinkAction> ParseDo(const http::Request& req) {
  auto d = EnumParam(req, "do", {"attach", "detach"}, true);
  if (!d) return std::move(d).error();
  return **d == "attach" ? store::LinkAction::Attach : store::LinkAction::Detach;
}

// The store reports "not found" for the object of the path with the 404 kind and for
// referenced objects with the 400 kind; these rewrite whatever it returned to what this
// resource must answer, so the answer does not depend on which check the store ran first.
core::Error OnPersonResource(core::Error e) {
  if (e.code == Errc::PersonNotFoundRef) e.code = Errc::PersonNotFound;
  return e;
}
}  // namespace

void Api::AddPersonRoutes() {
  Route("POST", "/4/storage/persons", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto body = ParseOptionalBody(c.req, *CreatePersonSchema());
    if (!body) return std::move(body).error();
    const auto& o = body->as_object();
    store::Person p;
    p.id = core::NewUuid4();
    p.account_id = c.who.account_id;
    p.user_data = OptionalString(o, "user_data").value_or("");
    p.external_id = OptionalString(o, "external_id");
    p.create_time_ms = p.last_update_ms = core::NowMillis();
    if (auto st = store_.CreatePerson(p); !st) return std::move(st).error();
    return Json(201, json::object{{"person_id", p.id}});
  });

  Route("GET", "/4/storage/persons", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto user_data = StringParam(c.req, "user_data", kUserDataMax);
    if (!user_data) return std::move(user_data).error();
    auto external_id = StringParam(c.req, "external_id", kExternalIdMax);
    if (!external_id) return std::move(external_id).error();
    auto page = ParsePagination(c.req);
    if (!page) return std::move(page).error();
    store::PersonFilter filter{*user_data, *external_id};
    auto list = store_.ListPersons(c.who.account_id, filter, {page->page, page->page_size});
    if (!list) return std::move(list).error();
    json::array persons;
    persons.reserve(list->items.size());
    for (const auto& p : list->items) persons.push_back(PersonJson(p));
    return Json(200, json::object{{"persons", std::move(persons)}, {"count", list->count}});
  });

  Route("GET", "/4/storage/persons/{id}", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto p = store_.GetPerson(c.who.account_id, c.req.path_params[0]);
    if (!p) return std::move(p).error();
    if (!p->has_value()) return core::MakeError(Errc::PersonNotFound);
    return Json(200, PersonJson(**p));
  });

  Route("PATCH", "/4/storage/persons/{id}", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto body = s::ParseBody(c.req, *PatchPersonSchema());
    if (!body) return std::move(body).error();
    const auto& o = body->as_object();
    auto ok = store_.UpdatePerson(c.who.account_id, c.req.path_params[0], OptionalString(o, "user_data"),
                                  OptionalString(o, "external_id"), core::NowMillis());
    if (!ok) return OnPersonResource(std::move(ok).error());
    if (!*ok) return core::MakeError(Errc::PersonNotFound);
    return NoContent();
  });

  // The person's descriptors stay, unlinked from it (API.md §6).
  Route("DELETE", "/4/storage/persons/{id}", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto ok = store_.DeletePerson(c.who.account_id, c.req.path_params[0], core::NowMillis());
    if (!ok) return OnPersonResource(std::move(ok).error());
    if (!*ok) return core::MakeError(Errc::PersonNotFound);
    return NoContent();
  });

  Route("GET", "/4/storage/persons/{id}/linked_descriptors", Access::TokenOrBasic,
        [this](Call& c) -> core::Result<http::Response> {
          auto p = store_.GetPerson(c.who.account_id, c.req.path_params[0]);
          if (!p) return std::move(p).error();
          if (!p->has_value()) return core::MakeError(Errc::PersonNotFound);
          return Json(200, json::object{{"descriptors", IdArray((*p)->descriptors)}});
        });

  // Attach: 11016 when the descriptor belongs to another person; attaching it to the same
  // person again is harmless. Detach: detaching a descriptor the person does not have is
  // harmless. An unknown descriptor is 400 11018 either way.
  Route("PATCH", "/4/storage/persons/{id}/linked_descriptors", Access::TokenOrBasic,
        [this](Call& c) -> core::Result<http::Response> {
          auto descriptor_id = UuidParam(c.req, "descriptor_id", true);
          if (!descriptor_id) return std::move(descriptor_id).error();
          auto action = ParseDo(c.req);
          if (!action) return std::move(action).error();
          const std::string& id = **descriptor_id;
          auto st = store_.LinkPersonDescriptor(c.who.account_id, c.req.path_params[0], id, *action,
                                                core::NowMillis());
          if (!st) {
            core::Error e = OnPersonResource(std::move(st).error());
            if (e.code == Errc::DescriptorNotFound || e.code == Errc::DescriptorNotFoundRef) {
              e.code = Errc::DescriptorNotFoundRef;
              e.args = {id};
            }
            return e;
          }
          return NoContent();
        });

  Route("GET", "/4/storage/persons/{id}/linked_lists", Access::TokenOrBasic,
        [this](Call& c) -> core::Result<http::Response> {
          auto p = store_.GetPerson(c.who.account_id, c.req.path_params[0]);
          if (!p) return std::move(p).error();
          if (!p->has_value()) return core::MakeError(Errc::PersonNotFound);
          return Json(200, json::object{{"lists", IdArray((*p)->lists)}});
        });

  // Attach to / detach from a persons list: the person is the path's object (404 22007), the
  // list is referenced (400 22003; a descriptors list is 400 22010).
  Route("PATCH", "/4/storage/persons/{id}/linked_lists", Access::TokenOrBasic,
        [this](Call& c) -> core::Result<http::Response> {
          auto list_id = UuidParam(c.req, "list_id", true);
          if (!list_id) return std::move(list_id).error();
          auto action = ParseDo(c.req);
          if (!action) return std::move(action).error();
          const std::string& person_id = c.req.path_params[0];
          auto p = store_.GetPerson(c.who.account_id, person_id);
          if (!p) return std::move(p).error();
          if (!p->has_value()) return core::MakeError(Errc::PersonNotFound);
          auto st = store_.LinkList(c.who.account_id, **list_id, store::ListType::Persons, *action, {person_id},
                                    core::NowMillis());
          if (!st) {
            core::Error e = std::move(st).error();
            switch (e.code) {
              // Deleted between the two calls: the path's object is gone.
              case Errc::ObjectsNotFound: return core::MakeError(Errc::PersonNotFound);
              case Errc::PersonNotFoundRef: return core::MakeError(Errc::PersonNotFound);
              case Errc::ListNotFound: return core::MakeError(Errc::ListNotFoundRef);
              case Errc::WrongListType: return WrongListTypeError(store::ListType::Persons);
              default: return e;
            }
          }
          return NoContent();
        });
}

}  // namespace api
