#include "face/manifest.hpp"

#include <sodium.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

namespace face {
namespace json = boost::json;

int ModelEntry::width() const {
  if (input_shape.size() != 4) return 0;
  return static_cast<int>(layout == "NHWC" ? input_shape[2] : input_shape[3]);
}
int ModelEntry::height() const {
  if (input_shape.size() != 4) return 0;
  return static_cast<int>(layout == "NHWC" ? input_shape[1] : input_shape[2]);
}

std::string Sha256Hex(const std::string& bytes) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : h) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

namespace {

core::Error Bad(const std::string& what) {
  return core::Error(core::Errc::Internal, {"manifest"}, "models manifest: " + what);
}

template <class T>
bool ReadFloats3(const json::object& o, const char* key, std::array<T, 3>& out) {
  auto* v = o.if_contains(key);
  if (!v) return true;
  if (!v->is_array() || v->as_array().size() != 3) return false;
  for (int i = 0; i < 3; ++i) {
    const auto& x = v->as_array()[i];
    if (!x.is_number()) return false;
    out[i] = static_cast<T>(x.to_number<double>());
  }
  return true;
}

}  // namespace

core::Result<Manifest> Manifest::Parse(const std::string& text, const std::string& dir) {
  try {
    json::value root = json::parse(text);
    const json::object& o = root.as_object();
    Manifest m;
    m.dir = dir;
    m.descriptor_version = static_cast<uint32_t>(o.at("descriptor_version").to_number<int64_t>());
    for (const auto& mv : o.at("models").as_array()) {
      const json::object& e = mv.as_object();
      ModelEntry me;
      me.name = json::value_to<std::string>(e.at("name"));
      me.file = json::value_to<std::string>(e.at("file"));
      me.sha256 = json::value_to<std::string>(e.at("sha256"));
      me.input = json::value_to<std::string>(e.at("input"));
      for (const auto& d : e.at("input_shape").as_array()) me.input_shape.push_back(d.to_number<int64_t>());
      if (auto* v = e.if_contains("layout")) me.layout = json::value_to<std::string>(*v);
      if (auto* v = e.if_contains("channels")) me.channels = json::value_to<std::string>(*v);
      if (!ReadFloats3(e, "mean", me.mean) || !ReadFloats3(e, "std", me.std))
        return Bad(me.name + ": mean/std must be 3 numbers");
      for (const auto& d : e.at("outputs").as_array()) me.outputs.push_back(json::value_to<std::string>(d));
      if (auto* v = e.if_contains("optional")) me.optional = v->as_bool();
      if (me.input_shape.size() != 4) return Bad(me.name + ": input_shape must have 4 dimensions");
      if (me.layout != "NCHW" && me.layout != "NHWC") return Bad(me.name + ": layout must be NCHW or NHWC");
      m.models[me.name] = std::move(me);
    }
    return m;
  } catch (const std::exception& e) {
    return Bad(std::string("parse error: ") + e.what());
  }
}

core::Result<Manifest> Manifest::Load(const std::string& models_dir) {
  const std::string path = models_dir + "/manifest.json";
  std::ifstream f(path, std::ios::binary);
  if (!f) return Bad("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return Parse(ss.str(), models_dir);
}

const ModelEntry* Manifest::Find(const std::string& name) const {
  auto it = models.find(name);
  return it == models.end() ? nullptr : &it->second;
}

}  // namespace face
