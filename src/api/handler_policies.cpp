#include "api/handler_policies.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <limits>

namespace api {
namespace json = boost::json;
namespace s = schema;
using store::HandlerType;

namespace {

bool HasList(HandlerType t) { return t != HandlerType::Verify; }

// The keys shared by the three types (reference: every PATCH body has them).
std::vector<s::Property> CommonProperties() {
  return {
      {"estimate_attributes", s::Integer(0, 1)}, {"estimate_emotions", s::Integer(0, 1)},
      {"estimate_ethnicities", s::Integer(0, 1)}, {"estimate_quality", s::Integer(0, 1)},
      {"estimate_head_pose", s::Integer(0, 1)},  {"extract_exif", s::Integer(0, 1)},
      {"yaw_threshold", s::Integer(0, 180)},     {"roll_threshold", s::Integer(0, 180)},
      {"pitch_threshold", s::Integer(0, 180)},   {"score_threshold", s::Number(0, 1)},
  };
}

s::NodePtr MakeSchema(HandlerType t) {
  std::vector<s::Property> props;
  if (HasList(t)) props.push_back({"list_id", s::Uuid4()});
  if (t == HandlerType::Identify) props.push_back({"limit", s::Integer(1, 5)});
  for (auto& p : CommonProperties()) props.push_back(std::move(p));
  if (t == HandlerType::Verify) props.push_back({"verify_threshold", s::Number(0, 1)});
  if (t == HandlerType::Identify) props.push_back({"identify_threshold", s::Number(0, 1)});
  return s::Object(std::move(props), 1);
}

// Angle threshold t (< 180) as the extraction's strict "|angle| < x" bound: the next double
// above t makes it "|angle| <= t" exactly. 180 means no filter.
std::optional<double> AngleBound(int64_t t) {
  if (t >= 180) return std::nullopt;
  return std::nextafter(static_cast<double>(t), std::numeric_limits<double>::infinity());
}

}  // namespace

ExtractionParams HandlerPolicies::Extraction(bool warped) const {
  ExtractionParams p;
  p.estimate.age_gender = estimate_attributes;
  p.estimate.emotions = estimate_emotions;
  p.estimate.ethnicities = estimate_ethnicities;
  p.estimate.quality = estimate_quality;
  p.score_threshold = score_threshold;
  p.yaw_lt = AngleBound(yaw_threshold);
  p.pitch_lt = AngleBound(pitch_threshold);
  p.roll_lt = AngleBound(roll_threshold);
  p.report_head_pose = estimate_head_pose || p.yaw_lt || p.pitch_lt || p.roll_lt;
  p.estimate.pose = p.report_head_pose;
  p.warped = warped;
  p.extract_descriptor = true;
  p.extract_exif = extract_exif;
  return p;
}

const schema::Node& PolicySchema(HandlerType type) {
  static const s::NodePtr kExtractor = MakeSchema(HandlerType::Extractor);
  static const s::NodePtr kVerify = MakeSchema(HandlerType::Verify);
  static const s::NodePtr kIdentify = MakeSchema(HandlerType::Identify);
  switch (type) {
    case HandlerType::Extractor: return *kExtractor;
    case HandlerType::Verify: return *kVerify;
    case HandlerType::Identify: return *kIdentify;
  }
  return *kExtractor;
}

core::Result<HandlerPolicies> EffectivePolicies(const store::Handler& handler, const PolicyDefaults& defaults) {
  HandlerPolicies p;
  p.type = handler.type;
  p.verify_threshold = p.identify_threshold = defaults.threshold;
  boost::system::error_code ec;
  json::value stored = json::parse(handler.policies, ec);
  if (ec || !stored.is_object()) return core::InternalError("handler " + handler.id + ": stored policies are not an object");
  // Values were validated by the PATCH schema before they were stored; a key of the wrong
  // JSON type (only possible by editing the database) keeps its default.
  for (const auto& [key, v] : stored.as_object()) {
    if (!v.is_number() && !v.is_string()) continue;
    const double num = v.is_number() ? v.to_number<double>() : 0;
    const auto flag = [&](bool& out) { out = num != 0; };
    if (key == "list_id" && v.is_string() && HasList(p.type)) p.list_id = std::string(v.as_string());
    else if (!v.is_number()) continue;
    else if (key == "limit") p.limit = static_cast<int64_t>(num);
    else if (key == "estimate_attributes") flag(p.estimate_attributes);
    else if (key == "estimate_emotions") flag(p.estimate_emotions);
    else if (key == "estimate_ethnicities") flag(p.estimate_ethnicities);
    else if (key == "estimate_quality") flag(p.estimate_quality);
    else if (key == "estimate_head_pose") flag(p.estimate_head_pose);
    else if (key == "extract_exif") flag(p.extract_exif);
    else if (key == "yaw_threshold") p.yaw_threshold = static_cast<int64_t>(num);
    else if (key == "roll_threshold") p.roll_threshold = static_cast<int64_t>(num);
    else if (key == "pitch_threshold") p.pitch_threshold = static_cast<int64_t>(num);
    else if (key == "score_threshold") p.score_threshold = num;
    else if (key == "verify_threshold") p.verify_threshold = num;
    else if (key == "identify_threshold") p.identify_threshold = num;
  }
  return p;
}

json::object PoliciesJson(const HandlerPolicies& p) {
  json::object o;
  if (HasList(p.type)) o["list_id"] = p.list_id ? json::value(*p.list_id) : json::value(nullptr);
  if (p.type == HandlerType::Identify) o["limit"] = p.limit;
  o["estimate_attributes"] = int(p.estimate_attributes);
  o["estimate_emotions"] = int(p.estimate_emotions);
  o["estimate_ethnicities"] = int(p.estimate_ethnicities);
  o["estimate_quality"] = int(p.estimate_quality);
  o["estimate_head_pose"] = int(p.estimate_head_pose);
  o["extract_exif"] = int(p.extract_exif);
  o["yaw_threshold"] = p.yaw_threshold;
  o["roll_threshold"] = p.roll_threshold;
  o["pitch_threshold"] = p.pitch_threshold;
  o["score_threshold"] = p.score_threshold;
  if (p.type == HandlerType::Verify) o["verify_threshold"] = p.verify_threshold;
  if (p.type == HandlerType::Identify) o["identify_threshold"] = p.identify_threshold;
  return o;
}

core::Result<LoadedHandler> LoadHandler(store::Store& store, const std::string& account_id, HandlerType type,
                                        const PolicyDefaults& defaults) {
  auto h = store.GetHandler(account_id, type);
  if (!h) return std::move(h).error();
  if (!h->has_value())
    return core::InternalError("account " + account_id + " has no " + std::string(store::HandlerTypeName(type)) +
                               " handler");
  auto p = EffectivePolicies(**h, defaults);
  if (!p) return std::move(p).error();
  return LoadedHandler{std::move(**h), std::move(*p)};
}

}  // namespace api
