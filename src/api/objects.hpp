#pragma once
// JSON shapes of the storage objects (API.md §5) and small helpers shared by the storage
// families (descriptors.cpp, persons.cpp, lists.cpp), so that a person or a descriptor looks
// the same wherever it appears.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "api/json_schema.hpp"
#include "core/result.hpp"
#include "http/message.hpp"
#include "store/store.hpp"

namespace api {

// ["uuid", …] (lists, descriptors and linked_* arrays hold ids, never objects).
boost::json::array IdArray(const std::vector<std::string>& ids);

// {"id","user_data","create_time","external_id"|null,"descriptors":[ids],"lists":[ids]}
boost::json::object PersonJson(const store::Person& p);

// {"id","last_update","person_id"|null,"lists":[ids]}
boost::json::object DescriptorJson(const store::Descriptor& d);

// "persons" / "descriptors": the LUNA name of a list type (also the word used in the 22010
// and 11020 details).
const char* ListTypeName(store::ListType t);

// 22010 "Wrong list type: expected a <member_type> list": the detail names the list type the
// operation needs, i.e. the type of the objects being linked (attaching persons to a
// descriptors list answers "expected a persons list"), whatever the store reported.
core::Error WrongListTypeError(store::ListType member_type);

// A JSON body whose every property is optional (create person, create list): a request with
// no body at all (zero bytes) counts as `{}` whatever its Content-Type; any other body goes
// through schema::ParseBody (Content-Type 12017, JSON 12002, schema 12022).
core::Result<boost::json::value> ParseOptionalBody(const http::Request& req, const schema::Node& schema);

// Removes repeated ids, keeping the first occurrence (linker arrays, bulk deletes).
std::vector<std::string> UniqueIds(const boost::json::array& ids);

}  // namespace api
