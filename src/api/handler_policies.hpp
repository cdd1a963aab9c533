#pragma once
// Handler policies (API.md §4 H, reference "patch … handler"): which keys each handler type
// has, their documented defaults (docs/HANDLERS.md), the PATCH body schema, and the effective
// policies of an account's handler = the defaults overlaid with the keys stored by PATCH
// (store::Handler::policies holds only the keys ever patched, so a default that was never
// overridden follows the service's configuration, e.g. verify_threshold).
#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "api/extraction.hpp"
#include "api/json_schema.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace api {

struct PolicyDefaults {
  // ApiOptions::verify_threshold (setting verify_threshold): the default of both the
  // verify_threshold and the identify_threshold policies.
  double threshold = 0;
};

// The effective policies of one handler. Keys a type does not have keep their defaults and
// are not rendered.
struct HandlerPolicies {
  store::HandlerType type = store::HandlerType::Extractor;
  std::optional<std::string> list_id;  // extractor, identify; null until set
  int64_t limit = 3;                   // identify, 1..5
  bool estimate_attributes = false, estimate_emotions = false, estimate_ethnicities = false,
       estimate_quality = false, estimate_head_pose = false, extract_exif = false;
  int64_t yaw_threshold = 180, roll_threshold = 180, pitch_threshold = 180;  // 0..180; 180 = no filter
  double score_threshold = 0;          // 0..1
  double verify_threshold = 0;         // verify
  double identify_threshold = 0;       // identify

  // The face extraction these policies ask for: estimators, score threshold, and an angle
  // threshold t < 180 keeps faces with |angle| <= t (head pose is then estimated).
  ExtractionParams Extraction(bool warped) const;
};

// The PATCH body schema of a type: every key optional, at least one, no others.
const schema::Node& PolicySchema(store::HandlerType type);

// Effective policies from the stored ones (Errc::Internal when the stored text is not an
// object; keys of other types or unknown keys are ignored).
core::Result<HandlerPolicies> EffectivePolicies(const store::Handler& handler, const PolicyDefaults& defaults);

// {"list_id": …|null, …}: every key of the type's PATCH body with its effective value.
boost::json::object PoliciesJson(const HandlerPolicies& p);

// Reads the account's handler and its effective policies (Errc::Internal when the account has
// no such handler: every account gets its three at creation or by migration 4).
struct LoadedHandler {
  store::Handler handler;
  HandlerPolicies policies;
};
core::Result<LoadedHandler> LoadHandler(store::Store& store, const std::string& account_id, store::HandlerType type,
                                        const PolicyDefaults& defaults);

}  // namespace api
