#include "api/json_schema.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <set>

#include "core/uuid.hpp"

namespace api::schema {
namespace json = boost::json;
using core::Errc;

namespace {
constexpr const char* kUuidPattern = "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}";

std::shared_ptr<Node> Make(Type t) {
  auto n = std::make_shared<Node>();
  n->type = t;
  return n;
}

core::Error Fail(const std::string& path, const std::string& message) {
  return core::Error(Errc::JsonValidation, {path, message});
}

std::string Num(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  std::string s = std::to_string(d);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s;
}

// Length in characters (UTF-8 code points), as JSON schema counts them.
std::size_t Utf8Length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::String: return "string";
    case Type::Integer: return "integer";
    case Type::Number: return "number";
    case Type::Boolean: return "boolean";
    case Type::Array: return "array";
    case Type::Object: return "object";
    case Type::Any: return "any";
  }
  return "?";
}

bool TypeMatches(Type t, const json::value& v) {
  switch (t) {
    case Type::String: return v.is_string();
    case Type::Integer:
      return v.is_int64() || v.is_uint64() || (v.is_double() && std::floor(v.get_double()) == v.get_double());
    case Type::Number: return v.is_number();
    case Type::Boolean: return v.is_bool();
    case Type::Array: return v.is_array();
    case Type::Object: return v.is_object();
    case Type::Any: return true;
  }
  return false;
}

core::Status Check(const Node& s, const json::value& v, const std::string& path) {
  if (v.is_null() && s.nullable) return {};
  if (!TypeMatches(s.type, v)) return Fail(path, path + " must be " + TypeName(s.type));
  switch (s.type) {
    case Type::String: {
      std::string_view str = v.get_string();
      // "\u0000" is valid JSON but not storable text everywhere (PostgreSQL refuses it in TEXT):
      // one rule for every backend, and a clear 12022 instead of a database error.
      if (s.format != Format::Bytes && str.find('\0') != std::string_view::npos)
        return Fail(path, path + " must not contain the NUL character");
      std::size_t len = Utf8Length(str);
      if (s.max_length && len > *s.max_length)
        return Fail(path, path + " must be shorter than or equal to " + std::to_string(*s.max_length) + " characters");
      if (s.min_length && len < *s.min_length)
        return Fail(path, path + " must be longer than or equal to " + std::to_string(*s.min_length) + " characters");
      if (s.format == Format::Uuid4 && !core::IsUuid4(str))
        return Fail(path, path + " must match pattern " + kUuidPattern);
      if (s.format == Format::Email && !IsEmail(str)) return Fail(path, path + " must be email");
      if (!s.enum_values.empty()) {
        bool found = false;
        for (const auto& e : s.enum_values) found |= (e == str);
        if (!found) {
          std::string list;
          for (const auto& e : s.enum_values) list += (list.empty() ? "'" : ", '") + e + "'";
          return Fail(path, path + " must be one of [" + list + "]");
        }
      }
      break;
    }
    case Type::Integer:
    case Type::Number: {
      double d = v.to_number<double>();
      if (s.minimum && d < *s.minimum) return Fail(path, path + " must be bigger than or equal to " + Num(*s.minimum));
      if (s.maximum && d > *s.maximum) return Fail(path, path + " must be smaller than or equal to " + Num(*s.maximum));
      break;
    }
    case Type::Array: {
      const auto& a = v.get_array();
      if (s.min_items && a.size() < *s.min_items)
        return Fail(path, path + " must contain at least " + std::to_string(*s.min_items) + " items");
      if (s.max_items && a.size() > *s.max_items)
        return Fail(path, path + " must contain less than or equal to " + std::to_string(*s.max_items) + " items");
      if (s.items) {
        for (std::size_t i = 0; i < a.size(); ++i)
          if (auto st = Check(*s.items, a[i], path + "[" + std::to_string(i) + "]"); !st) return st;
      }
      break;
    }
    case Type::Object: {
      const auto& o = v.get_object();
      std::string prefix = path == "data" ? "" : path + ".";
      if (s.min_properties && o.size() < *s.min_properties)
        return Fail(path, path + " must contain at least " + std::to_string(*s.min_properties) + " properties");
      for (const auto& p : s.properties) {
        if (p.required && !o.contains(p.name))
          return Fail(prefix + p.name, prefix + p.name + " is a required property");
      }
      for (const auto& kv : o) {
        const Property* prop = nullptr;
        for (const auto& p : s.properties)
          if (p.name == kv.key()) prop = &p;
        std::string child = prefix + std::string(kv.key());
        if (!prop) {
          if (s.additional_properties) continue;
          return Fail(child, child + " is not an allowed property");
        }
        if (auto st = Check(*prop->schema, kv.value(), child); !st) return st;
      }
      break;
    }
    default: break;
  }
  return {};
}
}  // namespace

NodePtr String(std::optional<std::size_t> min_len, std::optional<std::size_t> max_len, Format format) {
  auto n = Make(Type::String);
  n->min_length = min_len;
  n->max_length = max_len;
  n->format = format;
  return n;
}
NodePtr Uuid4() { return String({}, {}, Format::Uuid4); }
NodePtr Bytes() { return String({}, {}, Format::Bytes); }
NodePtr Integer(std::optional<double> min, std::optional<double> max) {
  auto n = Make(Type::Integer);
  n->minimum = min;
  n->maximum = max;
  return n;
}
NodePtr Number(std::optional<double> min, std::optional<double> max) {
  auto n = Make(Type::Number);
  n->minimum = min;
  n->maximum = max;
  return n;
}
NodePtr Boolean() { return Make(Type::Boolean); }
NodePtr Enum(std::vector<std::string> values) {
  auto n = Make(Type::String);
  n->enum_values = std::move(values);
  return n;
}
NodePtr Array(NodePtr items, std::optional<std::size_t> min_items, std::optional<std::size_t> max_items) {
  auto n = Make(Type::Array);
  n->items = std::move(items);
  n->min_items = min_items;
  n->max_items = max_items;
  return n;
}
NodePtr Object(std::vector<Property> props, std::optional<std::size_t> min_properties) {
  auto n = Make(Type::Object);
  n->properties = std::move(props);
  n->min_properties = min_properties;
  return n;
}
NodePtr Nullable(NodePtr in) {
  auto n = std::make_shared<Node>(*in);
  n->nullable = true;
  return n;
}

core::Status Validate(const Node& schema, const json::value& v) { return Check(schema, v, "data"); }

bool IsEmail(std::string_view s) {
  auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) return false;
  std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  if (local.size() > 64 || domain.size() < 3) return false;
  auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= domain.size()) return false;
  if (domain.front() == '.' || domain.find("..") != std::string_view::npos) return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f || c == '(' || c == ')' || c == ',' || c == ';' || c == ':' || c == '<' ||
        c == '>' || c == '[' || c == ']' || c == '\\' || c == '"')
      return false;
  return true;
}

core::Result<json::value> ParseBody(const http::Request& req, const Node& schema) {
  const std::string* ct = req.Header("Content-Type");
  if (!ct) return core::MakeError(Errc::BadContentType);
  std::string_view mime(*ct);
  mime = mime.substr(0, mime.find(';'));
  while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
  if (!http::IEquals(mime, "application/json")) return core::MakeError(Errc::BadContentType);
  json::error_code ec;
  json::parse_options opt;
  opt.max_depth = 32;
  json::value v = json::parse(req.body, ec, {}, opt);
  if (ec) return core::MakeError(Errc::NoJson);
  if (auto st = Validate(schema, v); !st) return std::move(st).error();
  return v;
}

}  // namespace api::schema
