#pragma once
// The LUNA API: routing table, cross-cutting behaviour (request id, CORS, OPTIONS, 404/405,
// transport errors, authentication, one JSON log line per request) and the resource
// families, one file each (accounts.cpp, service.cpp, …). Only this module knows LUNA.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/auth.hpp"
#include "core/result.hpp"
#include "core/settings.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "face/engine.hpp"
#include "face/similarity.hpp"
#include "store/portraits.hpp"
#include "store/store.hpp"

namespace api {

class IndexFollower;
struct PolicyDefaults;

struct ApiOptions {
  std::string cors_origin = "*";
  // Default of the verify handler's `verify_threshold` policy and of the identify handler's
  // `identify_threshold` (while no PATCH set them): the similarity of the FAR 1e-4 operating
  // point (face::kDefaultVerifyThreshold). Batch verification uses the account's policy.
  double verify_threshold = face::kDefaultVerifyThreshold;
  // POST /4/liveness: prediction = probability >= liveness_threshold; at most
  // liveness_max_images images of at most liveness_max_image_bytes each (413, 23001 beyond).
  double liveness_threshold = 0.5;
  std::size_t liveness_max_images = 16;
  std::size_t liveness_max_image_bytes = 16u << 20;
  // Descriptor format expected in request bodies when no engine is loaded (tests); with an
  // engine, its model's version and size are used. Version 0: unknown (verify/raw answers 500).
  uint32_t descriptor_version = 0;
  std::size_t descriptor_size = 512;
  // Matching requests first bring the index up to date with the change feed (read-your-
  // writes, across nodes too). false: they use the index as the background follower left it
  // (one feed query less per request; another node's write becomes matchable within the
  // follower's staleness bound, docs/DEPLOYMENT.md) — also how that bound is measured.
  bool catch_up_on_request = true;
};

// What the service endpoints report; filled by app/.
struct ServiceInfo {
  std::string version;                                       // e.g. "0.1.0"
  struct ConfigItem {
    std::string name, value;  // value as text, secrets already masked
    core::SettingType type;
  };
  std::vector<ConfigItem> config;                            // effective settings
  std::function<core::Status()> database_health;             // null = the store's Ping()
  std::function<core::Status()> models_health;               // null = models not configured
  std::string openapi_yaml;
  std::string openapi_html;
  std::string dev_manual_html;  // GET /docs/dev/index.html (README and docs/*.md, one page)
};

// One authenticated (or public) call.
struct Call {
  http::Request& req;
  Principal who;  // empty account_id for public routes
};

enum class Access { Public, TokenOrBasic, BasicOnly };
// Secret: the route's {id} segments are secrets (token ids) and are logged as "***".
enum class PathLog { Plain, Secret };
using CallHandler = std::function<core::Result<http::Response>(Call&)>;

class Api {
 public:
  // engine, portraits and matcher may be null (component tests of families that need no faces); the
  // routes that need them then answer 500 with a logged reason.
  Api(store::Store& store, Authenticator& auth, ApiOptions options, ServiceInfo info,
      face::Engine* engine = nullptr, store::PortraitStore* portraits = nullptr,
      IndexFollower* matcher = nullptr);
  // The server's dispatcher: never throws.
  http::Response Dispatch(http::Request& req);
  // The server's inline predicate: true for token-authenticated (or public) GETs of a few
  // primary-key reads, which then run on the network thread. Requests that may verify a
  // password (Basic without a token), decode images or scan the index are never light.
  bool IsLight(const http::Request& req) const;
  const http::Router& router() const { return router_; }

 private:
  void Route(const std::string& method, const std::string& pattern, Access access, CallHandler handler,
             PathLog path_log = PathLog::Plain);
  void AddServiceRoutes();   // service.cpp
  void AddAccountRoutes();   // accounts.cpp
  void AddDescriptorRoutes();  // descriptors.cpp (D: descriptors, linked lists, portraits)
  void AddPersonRoutes();    // persons.cpp (P: persons, linked descriptors, linked lists)
  void AddListRoutes();      // lists.cpp (L: lists and the linker)
  void AddMatchingRoutes();  // matching.cpp (M: verify, identify, match, search)
  // matcher_->CatchUp() unless opt_.catch_up_on_request is off (matching.cpp).
  core::Status CatchUpForRequest();
  void AddVerifyRawRoutes();  // verify_raw.cpp (batch verification of descriptors in the body)
  void AddHandlerRoutes();    // handlers.cpp (H: GET/PATCH of the three handlers)
  void AddHandlerPipelineRoutes();  // handler_pipelines.cpp (H: POST extractor, verify, identify)
  void AddLivenessRoutes();   // liveness.cpp (V: liveness)
  // Defaults of the policies no PATCH has set (from the options: verify_threshold, …).
  PolicyDefaults policy_defaults() const;
  http::Response Handle(http::Request& req);
  void Finish(const http::Request& req, http::Response& res) const;

  store::Store& store_;
  Authenticator& auth_;
  face::Engine* engine_;
  store::PortraitStore* portraits_;
  IndexFollower* matcher_;  // null: the matching routes answer 500
  ApiOptions opt_;
  ServiceInfo info_;
  http::Router router_;
};

}  // namespace api
