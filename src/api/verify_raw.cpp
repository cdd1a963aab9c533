// Batch verification `POST /4/handlers/verify/raw` (API.md §5; reference "batch
// verification"): every reference descriptor against every candidate descriptor, both given in
// the body. Pure computation: nothing is read from or written to the store.
//
// Body: `{"references":[entity…],"candidates":[entity…]}`, entity
// `{"id"?: str, "type": "sdk_descriptor"|"raw_descriptor", "data", "version"?: int}`, as
// application/json (`data` base64) or application/msgpack (`data` bytes, msgpack bin or str).
// `sdk_descriptor` is the binary form of face/descriptor_codec.hpp ("dp\0\0", LE uint32
// version, LE float32 payload); `raw_descriptor` is the payload alone, its version in
// `version` (default: the loaded model's).
//
// Response 200 `{"matches":[{"reference_id","candidates":[{"candidate_id","similarity","status"}]}]}`:
// one match per reference in request order, its candidates in request order; ids echoed (null
// when the entity had none); `similarity` = face::SimilarityFromCosine of the cosine of the two
// L2-normalised descriptors (0..1, 6 digits), `status` = similarity >= the account's verify
// handler policy verify_threshold.
//
// Errors: 12017 Content-Type not application/json or application/msgpack; 12002 a body that
// does not parse (JSON or msgpack: the reference has no msgpack-specific code); 12022 schema
// (empty arrays, more than kMaxItems, unknown type, …), more than kMaxPairs comparisons,
// wrong descriptor size, magic, version, non-finite or all-zero values (each message names the
// entity and what was expected); 18001 bad base64 in a JSON body.
#include <bit>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#define MP_SOURCE 1  // this file holds msgpuck's global tables (one translation unit only)
#include <msgpuck.h>

#include "api/api.hpp"
#include "api/extraction.hpp"
#include "api/handler_policies.hpp"
#include "api/json_schema.hpp"
#include "api/matching_core.hpp"
#include "api/query.hpp"
#include "api/respond.hpp"
#include "core/base64.hpp"
#include "face/descriptor_codec.hpp"
#include "face/similarity.hpp"

namespace api {
namespace json = boost::json;
using core::Errc;
using matching_detail::Similarity;  // the API's rounded similarity, as family M

namespace {
// At most 1000 references and 1000 candidates, and at most 100000 comparisons per request
// (the response then stays under ~10 MB and the scan under ~50 ms on one core).
constexpr std::size_t kMaxItems = 1000;
constexpr std::size_t kMaxPairs = 100000;
constexpr int kMaxDepth = 32;

enum class BodyKind { Json, Msgpack };

core::Error Invalid(const std::string& path, const std::string& message) {
  return core::Error(Errc::JsonValidation, {path, message});
}

// msgpack -> the JSON model (str and bin both become strings holding the bytes). The buffer
// has been checked by mp_check, so every read stays inside it.
bool MsgpackValue(const char** p, json::value& out, int depth, std::string& why) {
  if (depth > kMaxDepth) {
    why = "nested deeper than " + std::to_string(kMaxDepth);
    return false;
  }
  switch (mp_typeof(**p)) {
    case MP_NIL: mp_decode_nil(p); out = nullptr; return true;
    case MP_BOOL: out = mp_decode_bool(p); return true;
    case MP_UINT: {
      const uint64_t u = mp_decode_uint(p);
      if (u <= static_cast<uint64_t>(INT64_MAX)) out = static_cast<int64_t>(u);
      else out = u;
      return true;
    }
    case MP_INT: out = static_cast<int64_t>(mp_decode_int(p)); return true;
    case MP_FLOAT: out = static_cast<double>(mp_decode_float(p)); return true;
    case MP_DOUBLE: out = mp_decode_double(p); return true;
    case MP_STR: {
      uint32_t len = 0;
      const char* s = mp_decode_str(p, &len);
      out = json::string(s, len);
      return true;
    }
    case MP_BIN: {
      uint32_t len = 0;
      const char* s = mp_decode_bin(p, &len);
      out = json::string(s, len);
      return true;
    }
    case MP_ARRAY: {
      const uint32_t n = mp_decode_array(p);
      json::array a;
      a.reserve(n);
      for (uint32_t i = 0; i < n; ++i) {
        json::value v;
        if (!MsgpackValue(p, v, depth + 1, why)) return false;
        a.push_back(std::move(v));
      }
      out = std::move(a);
      return true;
    }
    case MP_MAP: {
      const uint32_t n = mp_decode_map(p);
      json::object o;
      for (uint32_t i = 0; i < n; ++i) {
        const mp_type kt = mp_typeof(**p);
        if (kt != MP_STR) {
          why = "a map key is not a string";
          return false;
        }
        uint32_t len = 0;
        const char* k = mp_decode_str(p, &len);
        json::value v;
        if (!MsgpackValue(p, v, depth + 1, why)) return false;
        o[json::string_view(k, len)] = std::move(v);
      }
      out = std::move(o);
      return true;
    }
    case MP_EXT: why = "extension types are not supported"; return false;
  }
  why = "unknown type";
  return false;
}

core::Result<json::value> ParseMsgpack(const std::string& body) {
  if (body.empty()) return core::Error(Errc::NoJson, {}, "verify/raw: empty msgpack body");
  const char* p = body.data();
  const char* end = body.data() + body.size();
  const char* check = p;
  if (mp_check(&check, end) != 0) return core::Error(Errc::NoJson, {}, "verify/raw: malformed or truncated msgpack");
  if (check != end) return core::Error(Errc::NoJson, {}, "verify/raw: bytes after the msgpack document");
  json::value v;
  std::string why;
  if (!MsgpackValue(&p, v, 0, why)) return core::Error(Errc::NoJson, {}, "verify/raw: msgpack " + why);
  return v;
}

const schema::NodePtr& BodySchema() {
  static const schema::NodePtr s = [] {
    auto entity = schema::Object({{"id", schema::String({}, 256), false},
                                  {"type", schema::Enum({"sdk_descriptor", "raw_descriptor"}), true},
                                  {"data", schema::Bytes(), true},  // msgpack bin: raw descriptor bytes
                                  {"version", schema::Integer(0, 4294967295.0), false}});
    return schema::Object({{"references", schema::Array(entity, 1, kMaxItems), true},
                           {"candidates", schema::Array(entity, 1, kMaxItems), true}});
  }();
  return s;
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

struct Entity {
  json::value id;              // string or null
  std::vector<float> unit;     // L2-normalised
};

struct Expected {
  uint32_t version;
  std::size_t size;
};

// One entity of the (validated) body -> its normalised vector. path: "references[3]".
core::Result<Entity> DecodeEntity(const json::object& o, const std::string& path, BodyKind kind, const Expected& ex) {
  Entity e;
  if (auto it = o.find("id"); it != o.end()) e.id = it->value();
  const std::string_view type = o.at("type").get_string();
  const std::string_view data = o.at("data").get_string();
  std::string bytes;
  if (kind == BodyKind::Json) {
    auto d = core::Base64Decode(data);
    if (!d) return core::Error(Errc::Base64Decode, {}, "verify/raw: " + path + ".data");
    bytes = std::move(*d);
  } else {
    bytes.assign(data.data(), data.size());
  }
  const std::string vs = std::to_string(ex.version), ns = std::to_string(ex.size);
  if (auto it = o.find("version"); it != o.end()) {
    const auto v = it->value().to_number<int64_t>();
    if (v != static_cast<int64_t>(ex.version))
      return Invalid(path + ".version", path + ".version must be " + vs + " (the descriptor version of the loaded model), got " +
                                            std::to_string(v));
  }
  const char* payload = nullptr;
  if (type == "sdk_descriptor") {
    const std::size_t want = face::kDescriptorHeaderSize + 4 * ex.size;
    if (bytes.size() != want)
      return Invalid(path + ".data", path + ".data must be an sdk_descriptor of " + std::to_string(want) +
                                         " bytes (8-byte header dp00 + version, then " + ns + " float32), got " +
                                         std::to_string(bytes.size()) + " bytes");
    if (std::memcmp(bytes.data(), "dp\0\0", 4) != 0)
      return Invalid(path + ".data", path + ".data is not an sdk_descriptor: it must begin with the magic dp00 (64 70 00 00)");
    const uint32_t got = GetU32(bytes.data() + 4);
    if (got != ex.version)
      return Invalid(path + ".data", path + ".data has descriptor version " + std::to_string(got) + ", expected version " + vs);
    payload = bytes.data() + face::kDescriptorHeaderSize;
  } else {
    const std::size_t want = 4 * ex.size;
    if (bytes.size() != want)
      return Invalid(path + ".data", path + ".data must be a raw_descriptor of " + std::to_string(want) + " bytes (" + ns +
                                         " float32), got " + std::to_string(bytes.size()) + " bytes");
    payload = bytes.data();
  }
  e.unit.resize(ex.size);
  double norm2 = 0;
  for (std::size_t i = 0; i < ex.size; ++i) {
    const float f = std::bit_cast<float>(GetU32(payload + 4 * i));
    if (!std::isfinite(f)) return Invalid(path + ".data", path + ".data holds a value that is not a finite number");
    e.unit[i] = f;
    norm2 += static_cast<double>(f) * f;
  }
  if (norm2 == 0) return Invalid(path + ".data", path + ".data is a zero vector");
  const float inv = static_cast<float>(1.0 / std::sqrt(norm2));
  for (auto& f : e.unit) f *= inv;
  return e;
}

core::Result<std::vector<Entity>> DecodeEntities(const json::array& a, const std::string& name, BodyKind kind,
                                                 const Expected& ex) {
  std::vector<Entity> out;
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto e = DecodeEntity(a[i].get_object(), name + "[" + std::to_string(i) + "]", kind, ex);
    if (!e) return std::move(e).error();
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace

void Api::AddVerifyRawRoutes() {
  Route("POST", "/4/handlers/verify/raw", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    if (auto nc = FlagParam(c.req, "no_cache", false); !nc) return std::move(nc).error();
    const Expected ex{engine_ ? engine_->descriptor_version() : opt_.descriptor_version,
                      engine_ ? engine_->descriptor_size() : opt_.descriptor_size};
    const std::string mime = RequestMediaType(c.req);
    BodyKind kind;
    json::value body;
    if (mime == "application/json") {
      kind = BodyKind::Json;
      auto v = schema::ParseBody(c.req, *BodySchema());
      if (!v) return std::move(v).error();
      body = std::move(*v);
    } else if (mime == "application/msgpack") {
      kind = BodyKind::Msgpack;
      auto v = ParseMsgpack(c.req.body);
      if (!v) return std::move(v).error();
      if (auto st = schema::Validate(*BodySchema(), *v); !st) return std::move(st).error();
      body = std::move(*v);
    } else {
      return core::MakeError(Errc::BadContentType);
    }
    const auto& refs_json = body.at("references").get_array();
    const auto& cands_json = body.at("candidates").get_array();
    if (refs_json.size() * cands_json.size() > kMaxPairs)
      return Invalid("data", "references x candidates must be at most " + std::to_string(kMaxPairs) + " comparisons, got " +
                                 std::to_string(refs_json.size()) + " x " + std::to_string(cands_json.size()));
    if (ex.version == 0 || ex.size == 0)
      return core::InternalError("verify/raw: the descriptor version is unknown (the face engine is not loaded)");
    auto refs = DecodeEntities(refs_json, "references", kind, ex);
    if (!refs) return std::move(refs).error();
    auto cands = DecodeEntities(cands_json, "candidates", kind, ex);
    if (!cands) return std::move(cands).error();

    // The account's verify handler decides `status` (its verify_threshold policy).
    auto handler = LoadHandler(store_, c.who.account_id, store::HandlerType::Verify, policy_defaults());
    if (!handler) return std::move(handler).error();
    const double threshold = handler->policies.verify_threshold;

    json::array matches;
    matches.reserve(refs->size());
    for (const auto& r : *refs) {
      json::array out;
      out.reserve(cands->size());
      for (const auto& k : *cands) {
        const double s = Similarity(face::Cosine(r.unit.data(), k.unit.data(), ex.size));
        out.push_back(json::object{{"candidate_id", k.id}, {"similarity", s}, {"status", s >= threshold}});
      }
      matches.push_back(json::object{{"reference_id", r.id}, {"candidates", std::move(out)}});
    }
    return Json(200, json::object{{"matches", std::move(matches)}});
  });
}

}  // namespace api
