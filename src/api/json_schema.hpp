#pragma once
// A small declarative JSON-schema subset for request bodies, producing the LUNA 12022
// messages: "<path> must be string", "<path> must match pattern <p>", "<path> must be
// shorter than or equal to <n> characters", "<path> is a required property", …
// Paths use "a.b[1]" notation; the root object is "data".
#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "http/message.hpp"

namespace api::schema {

struct Node;
using NodePtr = std::shared_ptr<const Node>;

enum class Type { String, Integer, Number, Boolean, Array, Object, Any };
// Bytes: a string that carries binary data (a msgpack bin field, base64 text), so the NUL
// character, refused in every other string, is allowed.
enum class Format { None, Email, Uuid4, Bytes };

struct Property {
  std::string name;
  NodePtr schema;
  bool required = false;
};

struct Node {
  Type type = Type::Any;
  bool nullable = false;
  // strings
  std::optional<std::size_t> min_length, max_length;
  Format format = Format::None;
  std::vector<std::string> enum_values;
  // numbers
  std::optional<double> minimum, maximum;
  // arrays
  NodePtr items;
  std::optional<std::size_t> min_items, max_items;
  bool unique_items = false;
  // objects
  std::vector<Property> properties;
  bool additional_properties = false;
  std::optional<std::size_t> min_properties;
};

// Builders: String().MaxLen(128) style helpers kept as free functions for brevity.
NodePtr String(std::optional<std::size_t> min_len = {}, std::optional<std::size_t> max_len = {},
               Format format = Format::None);
NodePtr Uuid4();
NodePtr Bytes();
NodePtr Integer(std::optional<double> min = {}, std::optional<double> max = {});
NodePtr Number(std::optional<double> min = {}, std::optional<double> max = {});
NodePtr Boolean();
NodePtr Enum(std::vector<std::string> values);
NodePtr Array(NodePtr items, std::optional<std::size_t> min_items = {}, std::optional<std::size_t> max_items = {});
NodePtr Object(std::vector<Property> props, std::optional<std::size_t> min_properties = {});
NodePtr Nullable(NodePtr n);

core::Status Validate(const Node& schema, const boost::json::value& v);

// Checks Content-Type (application/json, else Errc::BadContentType), parses (Errc::NoJson on
// empty or malformed bodies) and validates (Errc::JsonValidation).
core::Result<boost::json::value> ParseBody(const http::Request& req, const Node& schema);

bool IsEmail(std::string_view s);

}  // namespace api::schema
