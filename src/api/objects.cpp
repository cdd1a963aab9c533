#include "api/objects.hpp"

#include <boost/json.hpp>
#include <unordered_set>

#include "core/clock.hpp"

namespace api {
namespace json = boost::json;

json::array IdArray(const std::vector<std::string>& ids) {
  json::array a;
  a.reserve(ids.size());
  for (const auto& id : ids) a.emplace_back(id);
  return a;
}

json::object PersonJson(const store::Person& p) {
  json::object o;
  o["id"] = p.id;
  o["user_data"] = p.user_data;
  o["create_time"] = core::IsoTime(p.create_time_ms);
  if (p.external_id)
    o["external_id"] = *p.external_id;
  else
    o["external_id"] = nullptr;
  o["descriptors"] = IdArray(p.descriptors);
  o["lists"] = IdArray(p.lists);
  return o;
}

json::object DescriptorJson(const store::Descriptor& d) {
  json::object o;
  o["id"] = d.id;
  o["last_update"] = core::IsoTime(d.last_update_ms);
  if (d.person_id)
    o["person_id"] = *d.person_id;
  else
    o["person_id"] = nullptr;
  o["lists"] = IdArray(d.lists);
  return o;
}

const char* ListTypeName(store::ListType t) {
  return t == store::ListType::Persons ? "persons" : "descriptors";
}

core::Error WrongListTypeError(store::ListType member_type) {
  return core::Error(core::Errc::WrongListType, {ListTypeName(member_type)});
}

core::Result<json::value> ParseOptionalBody(const http::Request& req, const schema::Node& schema) {
  if (req.body.empty()) return json::value(json::object{});
  return schema::ParseBody(req, schema);
}

std::vector<std::string> UniqueIds(const json::array& ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  std::unordered_set<std::string_view> seen;
  for (const auto& v : ids) {
    const auto& s = v.as_string();
    if (seen.insert(std::string_view(s.data(), s.size())).second) out.emplace_back(s.data(), s.size());
  }
  return out;
}

}  // namespace api
