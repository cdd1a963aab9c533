#include "app/wiring.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "api/api.hpp"
#include "api/index_follower.hpp"
#include "app/descriptor_gc.hpp"
#include "core/log.hpp"
#include "store/pg_store.hpp"
#include "store/sqlite_store.hpp"

namespace embedded {
extern const std::string_view kOpenApiYaml;
extern const std::string_view kOpenApiHtml;
extern const std::string_view kDevManualHtml;
}  // namespace embedded

namespace app {
namespace fs = std::filesystem;

http::ServerOptions ServerOptionsFrom(const core::Settings& s) {
  http::ServerOptions o;
  o.address = s.String("listen_address");
  o.port = static_cast<uint16_t>(s.Int("port"));
  o.network_threads = static_cast<int>(s.Int("network_threads"));
  int workers = static_cast<int>(s.Int("worker_threads"));
  o.worker_threads = workers > 0 ? workers : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.body_limit = static_cast<uint64_t>(s.Int("body_limit_bytes"));
  o.header_limit = static_cast<uint32_t>(s.Int("header_limit_bytes"));
  o.header_timeout_ms = static_cast<int>(s.Int("header_timeout_s") * 1000);
  o.body_timeout_ms = static_cast<int>(s.Int("body_timeout_s") * 1000);
  o.max_connections = static_cast<int>(s.Int("max_connections"));
  o.shutdown_timeout_ms = static_cast<int>(s.Int("shutdown_timeout_s") * 1000);
  return o;
}

api::AuthOptions AuthOptionsFrom(const core::Settings& s) {
  api::AuthOptions o;
  o.cache_ttl_s = static_cast<int>(s.Int("auth_cache_ttl_s"));
  o.max_failures = static_cast<int>(s.Int("auth_max_failures"));
  o.failure_window_s = static_cast<int>(s.Int("auth_failure_window_s"));
  o.pwhash_opslimit = static_cast<uint64_t>(s.Int("pwhash_opslimit"));
  o.pwhash_memlimit = static_cast<uint64_t>(s.Int("pwhash_memlimit"));
  return o;
}

face::EngineOptions EngineOptionsFrom(const core::Settings& s) {
  face::EngineOptions o;
  o.models_dir = s.String("models_dir");
  o.intra_op_threads = static_cast<int>(s.Int("inference_threads"));
  o.flip_augment = s.Bool("flip_augment");
  o.min_side = static_cast<int>(s.Int("image_min_side"));
  o.max_side = static_cast<int>(s.Int("image_max_side"));
  return o;
}

std::string DatabasePath(const core::Settings& s) {
  const std::string& p = s.String("database_path");
  return p.empty() ? (fs::path(s.String("data_dir")) / "faceport.db").string() : p;
}

std::string DatabaseForLog(const core::Settings& s) {
  const std::string& url = s.String("database_url");
  return url.empty() ? DatabasePath(s) : store::RedactUrlPassword(url);
}

core::Result<std::unique_ptr<store::Store>> OpenStore(const core::Settings& s) {
  const std::string& url = s.String("database_url");
  if (!url.empty()) {
    // The URL itself never goes into an error: it may hold the password.
    if (!store::IsPgUrl(url)) return core::InternalError("database_url must start with postgresql:// or postgres://");
    store::PgOptions po;
    po.url = url;
    po.pool_size = static_cast<int>(s.Int("database_pool_size"));
    return store::OpenPgStore(po);
  }
  std::error_code ec;
  fs::create_directories(s.String("data_dir"), ec);
  if (ec) return core::InternalError("cannot create data_dir '" + s.String("data_dir") + "': " + ec.message());
  store::SqliteOptions so;
  so.path = DatabasePath(s);
  so.pool_size = static_cast<int>(s.Int("database_pool_size"));
  return store::OpenSqliteStore(so);
}

std::string PortraitsDir(const core::Settings& s) {
  const std::string& p = s.String("portraits_dir");
  return p.empty() ? (fs::path(s.String("data_dir")) / "portraits").string() : p;
}

core::Result<std::unique_ptr<store::PortraitStore>> OpenPortraits(const core::Settings& s, store::Store& store) {
  auto portraits = std::make_unique<store::PortraitStore>(PortraitsDir(s));
  if (auto st = portraits->Open(); !st) return std::move(st).error();
  int64_t age_s = s.Int("portrait_orphan_age_s");
  if (age_s < 0) age_s = s.String("database_url").empty() ? 0 : 600;
  auto removed =
      portraits->RemoveOrphans([&store](std::string_view id) { return store.DescriptorExists(id); }, age_s * 1000);
  if (!removed) return std::move(removed).error();
  if (*removed > 0) core::Log(core::LogLevel::Info, "portrait_orphans_removed", {{"count", *removed}});
  return portraits;
}

int RunGc(const core::Settings& s) {
  auto st = OpenStore(s);
  if (!st) {
    core::Log(core::LogLevel::Error, "gc_failed", {{"component", "database"}, {"detail", st.error().log_detail}});
    return 1;
  }
  auto portraits = OpenPortraits(s, **st);
  if (!portraits) {
    core::Log(core::LogLevel::Error, "gc_failed", {{"component", "portraits"}, {"detail", portraits.error().log_detail}});
    return 1;
  }
  DescriptorCollector gc(**st, **portraits, s.Int("descriptor_ttl_s") * 1000);
  auto n = gc.RunOnce();
  if (!n) {
    core::Log(core::LogLevel::Error, "gc_failed", {{"detail", n.error().log_detail}});
    return 1;
  }
  std::printf("deleted %d unlinked descriptors\n", *n);
  return 0;
}

int RunServe(const core::Settings& s) {
  core::SetLogLevel(core::ParseLogLevel(s.String("log_level")));
  // Block the stop signals in every thread; the main thread waits for them below, so the
  // shutdown runs in ordinary code rather than in a signal handler.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto st = OpenStore(s);
  if (!st) {
    core::Log(core::LogLevel::Error, "startup_failed", {{"component", "database"}, {"detail", st.error().log_detail}});
    return 1;
  }
  std::unique_ptr<store::Store> store = std::move(*st);
  auto pt = OpenPortraits(s, *store);
  if (!pt) {
    core::Log(core::LogLevel::Error, "startup_failed", {{"component", "portraits"}, {"detail", pt.error().log_detail}});
    return 1;
  }
  std::unique_ptr<store::PortraitStore> portraits = std::move(*pt);
  DescriptorCollector gc(*store, *portraits, s.Int("descriptor_ttl_s") * 1000);

  // A broken model does not stop the service: it is named here and by the health check.
  std::unique_ptr<face::Engine> engine;
  std::string engine_error;
  if (auto e = face::Engine::Create(EngineOptionsFrom(s)); e) {
    engine = std::move(*e);
    core::Log(core::LogLevel::Info, "models_loaded",
              {{"models_dir", s.String("models_dir")}, {"descriptor_version", static_cast<int64_t>(engine->descriptor_version())}});
  } else {
    engine_error = e.error().log_detail.empty() ? std::string(core::ErrcName(e.error().code)) : e.error().log_detail;
    for (const auto& a : e.error().args) engine_error += " [" + a + "]";
    core::Log(core::LogLevel::Error, "models_failed", {{"models_dir", s.String("models_dir")}, {"detail", engine_error}});
  }

  api::Authenticator auth(*store, AuthOptionsFrom(s));
  api::ServiceInfo info;
  info.version = FACEPORT_VERSION;
  auto masked = s.MaskedValues();
  for (std::size_t i = 0; i < masked.size(); ++i)
    info.config.push_back({masked[i].first, masked[i].second, s.table()[i].type});
  info.openapi_yaml = std::string(embedded::kOpenApiYaml);
  info.openapi_html = std::string(embedded::kOpenApiHtml);
  info.dev_manual_html = std::string(embedded::kDevManualHtml);
  info.models_health = [&engine, engine_error]() -> core::Status {
    if (!engine) return core::Error(core::Errc::HealthCheckFailed, {}, engine_error);
    auto h = engine->Health();
    if (!h) {
      std::string d;
      for (const auto& a : h.error().args) d += (d.empty() ? "" : ", ") + a;
      return core::Error(core::Errc::HealthCheckFailed, {}, d.empty() ? h.error().log_detail : d);
    }
    return {};
  };
  api::ApiOptions ao;
  ao.cors_origin = s.String("cors_origin");
  ao.verify_threshold = s.Double("verify_threshold");
  ao.liveness_threshold = s.Double("liveness_threshold");
  ao.liveness_max_images = static_cast<std::size_t>(s.Int("liveness_max_images"));
  ao.liveness_max_image_bytes = static_cast<std::size_t>(s.Int("liveness_max_image_bytes"));
  ao.catch_up_on_request = s.Bool("match_catch_up_on_request");
  // The matching index: loaded from a snapshot, then kept in step through the change feed.
  api::IndexFollowerOptions fo;
  fo.dim = engine ? engine->descriptor_size() : 512;
  fo.keep = s.Int("change_feed_keep");
  api::IndexFollower follower(*store, fo);
  if (auto lst = follower.Load(); !lst) {
    core::Log(core::LogLevel::Error, "startup_failed", {{"component", "index"}, {"detail", lst.error().log_detail}});
    return 1;
  }
  api::Api api(*store, auth, ao, std::move(info), engine.get(), portraits.get(), &follower);

  auto so = ServerOptionsFrom(s);
  http::Server server(
      so, [&api](http::Request& r) { return api.Dispatch(r); },
      s.Bool("inline_light_requests") ? http::InlinePredicate([&api](const http::Request& r) { return api.IsLight(r); })
                                      : http::InlinePredicate());
  std::string err;
  if (!server.Start(&err)) {
    core::Log(core::LogLevel::Error, "startup_failed", {{"component", "http"}, {"detail", err}});
    return 1;
  }
  gc.Start(s.Int("gc_interval_s") * 1000);
  follower.Start(s.Int("index_catchup_ms"));
  core::Log(core::LogLevel::Info, "started",
            {{"version", FACEPORT_VERSION},
             {"address", so.address},
             {"port", static_cast<int64_t>(server.port())},
             {"worker_threads", so.worker_threads},
             {"database", DatabaseForLog(s)}});
  int sig = 0;
  sigwait(&set, &sig);
  core::Log(core::LogLevel::Info, "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                                               {"open_connections", server.open_connections()}});
  server.Stop();
  follower.Stop();
  gc.Stop();
  core::Log(core::LogLevel::Info, "stopped", {});
  return 0;
}

}  // namespace app
