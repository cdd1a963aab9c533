// Family L: lists and the linker (API.md §4 L, §5; reference "lists" and "linker").
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
constexpr std::size_t kListDataMax = 128;
constexpr std::size_t kMaxIds = 1000;  // ids per linker / bulk delete request

const s::NodePtr& CreateListSchema() {
  static const s::NodePtr n = s::Object({{"list_data", s::String({}, kListDataMax), false}});
  return n;
}
const s::NodePtr& PatchListSchema() {
  static const s::NodePtr n = s::Object({{"list_data", s::String({}, kListDataMax), true}});
  return n;
}
const s::NodePtr& DeleteListsSchema() {
  static const s::NodePtr n = s::Object({{"lists", s::Array(s::Uuid4(), {}, kMaxIds), true}});
  return n;
}
// One of descriptor_ids / person_ids, checked after the schema (the schema subset has no oneOf).
const s::NodePtr& LinkerSchema() {
  static const s::NodePtr n = s::Object({
      {"action", s::Enum({"attach", "detach"}), true},
      {"list_id", s::Uuid4(), true},
      {"descriptor_ids", s::Array(s::Uuid4(), {}, kMaxIds), false},
      {"person_ids", s::Array(s::Uuid4(), {}, kMaxIds), false},
  });
  return n;
}

json::object ListItemJson(const store::List& l) {
  return json::object{{"id", l.id}, {"list_data", l.list_data}, {"count", l.count}};
}

// The list of the path: the store's "referenced" kind becomes this resource's 404.
core::Error OnListResource(core::Error e) {
  if (e.code == Errc::ListNotFoundRef) e.code = Errc::ListNotFound;
  return e;
}
}  // namespace

void Api::AddListRoutes() {
  // page/page_size apply to each type separately; each count is the total of its type.
  Route("GET", "/4/storage/lists", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto page = ParsePagination(c.req);
    if (!page) return std::move(page).error();
    store::PageRequest pr{page->page, page->page_size};
    auto persons = store_.ListLists(c.who.account_id, store::ListType::Persons, pr);
    if (!persons) return std::move(persons).error();
    auto descriptors = store_.ListLists(c.who.account_id, store::ListType::Descriptors, pr);
    if (!descriptors) return std::move(descriptors).error();
    json::array person_lists, descriptor_lists;
    for (const auto& l : persons->items) person_lists.push_back(ListItemJson(l));
    for (const auto& l : descriptors->items) descriptor_lists.push_back(ListItemJson(l));
    return Json(200, json::object{
                         {"lists", json::object{{"person_lists", std::move(person_lists)},
                                                {"descriptor_lists", std::move(descriptor_lists)}}},
                         {"persons_list_count", persons->count},
                         {"descriptors_list_count", descriptors->count},
                     });
  });

  // `type` defaults to persons, as in the reference.
  Route("POST", "/4/storage/lists", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto type = EnumParam(c.req, "type", {"persons", "descriptors"}, false);
    if (!type) return std::move(type).error();
    auto body = ParseOptionalBody(c.req, *CreateListSchema());
    if (!body) return std::move(body).error();
    const auto& o = body->as_object();
    store::List l;
    l.id = core::NewUuid4();
    l.account_id = c.who.account_id;
    l.type = type->value_or("persons") == "descriptors" ? store::ListType::Descriptors : store::ListType::Persons;
    if (auto it = o.find("list_data"); it != o.end()) l.list_data = json::value_to<std::string>(it->value());
    l.create_time_ms = core::NowMillis();
    if (auto st = store_.CreateList(l); !st) return std::move(st).error();
    return Json(201, json::object{{"list_id", l.id}});
  });

  // Ids that name no list of this account are ignored (as for tokens), so foreign ids cannot
  // be probed.
  Route("DELETE", "/4/storage/lists", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto body = s::ParseBody(c.req, *DeleteListsSchema());
    if (!body) return std::move(body).error();
    auto ids = UniqueIds(body->as_object().at("lists").as_array());
    if (auto st = store_.DeleteLists(c.who.account_id, ids, core::NowMillis()); !st) return std::move(st).error();
    return NoContent();
  });

  Route("GET", "/4/storage/lists/{id}", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto page = ParsePagination(c.req);
    if (!page) return std::move(page).error();
    const std::string& list_id = c.req.path_params[0];
    auto l = store_.GetList(c.who.account_id, list_id);
    if (!l) return std::move(l).error();
    if (!l->has_value()) return core::MakeError(Errc::ListNotFound);
    store::PageRequest pr{page->page, page->page_size};
    json::array members;
    int64_t count = 0;
    if ((*l)->type == store::ListType::Persons) {
      auto m = store_.ListPersonsInList(c.who.account_id, list_id, pr);
      if (!m) return OnListResource(std::move(m).error());
      for (const auto& p : m->items) members.push_back(PersonJson(p));
      count = m->count;
    } else {
      auto m = store_.ListDescriptorsInList(c.who.account_id, list_id, pr);
      if (!m) return OnListResource(std::move(m).error());
      for (const auto& d : m->items) members.push_back(DescriptorJson(d));
      count = m->count;
    }
    return Json(200, json::object{{ListTypeName((*l)->type), std::move(members)},
                                  {"list_data", (*l)->list_data},
                                  {"count", count}});
  });

  Route("PATCH", "/4/storage/lists/{id}", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto body = s::ParseBody(c.req, *PatchListSchema());
    if (!body) return std::move(body).error();
    auto ok = store_.UpdateListData(c.who.account_id, c.req.path_params[0],
                                    json::value_to<std::string>(body->as_object().at("list_data")));
    if (!ok) return OnListResource(std::move(ok).error());
    if (!*ok) return core::MakeError(Errc::ListNotFound);
    return NoContent();
  });

  // Members are unlinked, not deleted (API.md §6).
  Route("DELETE", "/4/storage/lists/{id}", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto ok = store_.DeleteList(c.who.account_id, c.req.path_params[0], core::NowMillis());
    if (!ok) return OnListResource(std::move(ok).error());
    if (!*ok) return core::MakeError(Errc::ListNotFound);
    return NoContent();
  });

  // All or nothing: an unknown list (22003), a list of the other type (22010) or any id that
  // is not the account's (11020) rejects the whole request and changes nothing. Attaching a
  // member again and detaching a non-member are harmless.
  Route("PATCH", "/4/storage/linker", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto body = s::ParseBody(c.req, *LinkerSchema());
    if (!body) return std::move(body).error();
    const auto& o = body->as_object();
    bool has_d = o.contains("descriptor_ids"), has_p = o.contains("person_ids");
    if (has_d == has_p)
      return core::Error(Errc::JsonValidation,
                         {"data", "data must contain exactly one of descriptor_ids, person_ids"});
    store::ListType member_type = has_d ? store::ListType::Descriptors : store::ListType::Persons;
    auto ids = UniqueIds(o.at(has_d ? "descriptor_ids" : "person_ids").as_array());
    auto action = o.at("action").as_string() == "attach" ? store::LinkAction::Attach : store::LinkAction::Detach;
    auto st = store_.LinkList(c.who.account_id, json::value_to<std::string>(o.at("list_id")), member_type, action,
                              ids, core::NowMillis());
    if (!st) {
      core::Error e = std::move(st).error();
      switch (e.code) {
        case Errc::ListNotFound: return core::MakeError(Errc::ListNotFoundRef);
        case Errc::WrongListType: return WrongListTypeError(member_type);
        case Errc::ObjectsNotFound:
        case Errc::PersonNotFound:
        case Errc::PersonNotFoundRef:
        case Errc::DescriptorNotFound:
        case Errc::DescriptorNotFoundRef: return core::MakeError(Errc::ObjectsNotFound, {ListTypeName(member_type)});
        default: return e;
      }
    }
    return NoContent();
  });
}

}  // namespace api
