#include "app/settings_table.hpp"

#ifndef FACEPORT_DEFAULT_MODELS_DIR
#define FACEPORT_DEFAULT_MODELS_DIR "models"
#endif

namespace app {
using core::SettingType;

const std::vector<core::SettingDef>& SettingsTable() {
  static const std::vector<core::SettingDef> table = {
      // --- network
      {"listen_address", SettingType::String, "0.0.0.0", "Address the HTTP server listens on"},
      {"port", SettingType::Int, "5000", "TCP port of the HTTP server (0 = any free port)", false, 0, 65535},
      {"network_threads", SettingType::Int, "1", "Threads that read and write HTTP (parsing only, no handler work)",
       false, 1, 64},
      {"inline_light_requests", SettingType::Bool, "true",
       "Run light requests (token-authenticated primary-key GETs, /version) on the network thread"},
      {"worker_threads", SettingType::Int, "0", "Threads that run request handlers (0 = one per CPU core)", false, 0,
       256},
      {"max_connections", SettingType::Int, "1024", "Open connections allowed at once; more are closed at accept",
       false, 1, 1000000},
      {"body_limit_bytes", SettingType::Int, "16777216", "Largest request body accepted (413 / 23001 above it)",
       false, 1024, 1073741824},
      {"header_limit_bytes", SettingType::Int, "16384", "Largest request header block accepted", false, 1024,
       1048576},
      {"header_timeout_s", SettingType::Int, "15",
       "Seconds to wait for a request's headers (also the idle keep-alive time)", false, 1, 3600},
      {"body_timeout_s", SettingType::Int, "60", "Seconds allowed to receive a request body", false, 1, 3600},
      {"shutdown_timeout_s", SettingType::Int, "30", "Seconds SIGTERM waits for requests in flight to finish", false,
       0, 3600},
      {"cors_origin", SettingType::String, "*", "Value of Access-Control-Allow-Origin on every response"},
      // --- storage
      {"data_dir", SettingType::String, "data", "Directory holding the SQLite database and the portraits"},
      {"database_path", SettingType::String, "", "SQLite database file (default: <data_dir>/faceport.db)"},
      {"database_url", SettingType::String, "",
       "PostgreSQL database shared by several nodes (postgresql://user:password@host:port/db); empty = the "
       "embedded SQLite database. Secret: masked in `faceport config`, /4/config and logs",
       true},
      {"database_pool_size", SettingType::Int, "4", "Database connections kept open per node (concurrent readers)",
       false, 1, 64},
      {"portraits_dir", SettingType::String, "",
       "Directory of portrait files (default: <data_dir>/portraits); shared by every node with database_url"},
      {"portrait_orphan_age_s", SettingType::Int, "-1",
       "Start-up removal of portrait files without a descriptor only touches files at least this old, so that "
       "another node's write in flight survives (-1 = 0 with SQLite, 600 with database_url)",
       false, -1, 31536000},
      {"descriptor_ttl_s", SettingType::Int, "86400",
       "Seconds an unlinked descriptor (no person, no list) is kept before the collector deletes it", false, 0,
       31536000},
      {"gc_interval_s", SettingType::Int, "60", "Seconds between two runs of the descriptor collector", false, 1,
       86400},
      // --- matching
      {"index_catchup_ms", SettingType::Int, "1000",
       "Milliseconds between two background catch-ups of the matching index with the store's change feed "
       "(matching requests also catch up first)",
       false, 10, 3600000},
      {"match_catch_up_on_request", SettingType::Bool, "true",
       "Matching requests first apply the change feed (read-your-writes across nodes); false = use the index as "
       "the background follower left it (staleness bound: docs/DEPLOYMENT.md)"},
      {"change_feed_keep", SettingType::Int, "100000",
       "Change-feed rows kept behind the index's applied position when pruning (a follower further behind "
       "reloads from a snapshot)",
       false, 0, 1000000000},
      {"verify_threshold", SettingType::Double, "0.67",
       "Default of the handlers' verify_threshold and identify_threshold policies (similarity 0..1; "
       "batch verification uses the account's verify policy): the FAR 1e-4 operating point on LFW",
       false, 0, 1},
      // --- liveness
      {"liveness_threshold", SettingType::Double, "0.5",
       "Liveness probability at or above which POST /4/liveness predicts a real person (prediction 1)", false, 0, 1},
      {"liveness_max_images", SettingType::Int, "16", "Most images in one POST /4/liveness request", false, 1, 1000},
      {"liveness_max_image_bytes", SettingType::Int, "16777216",
       "Largest image in a POST /4/liveness request, in bytes (as sent, before base64 decoding)", false, 1,
       1073741824},
      // --- authentication
      {"auth_cache_ttl_s", SettingType::Int, "60",
       "Seconds a verified Basic login is remembered (avoids one argon2id per request)", false, 0, 86400},
      {"auth_max_failures", SettingType::Int, "10",
       "Failed logins allowed per account and per client address within auth_failure_window_s", false, 1, 1000000},
      {"auth_failure_window_s", SettingType::Int, "60", "Window of the failed-login limit, in seconds", false, 1,
       86400},
      {"pwhash_opslimit", SettingType::Int, "0",
       "argon2id passes for new passwords (0 = libsodium INTERACTIVE: 2)", false, 0, 100},
      {"pwhash_memlimit", SettingType::Int, "0",
       "argon2id memory in bytes for new passwords (0 = libsodium INTERACTIVE: 64 MiB)", false, 0,
       4294967296LL},
      // --- face engine
      {"models_dir", SettingType::String, FACEPORT_DEFAULT_MODELS_DIR,
       "Directory with manifest.json and the ONNX models it names"},
      {"inference_threads", SettingType::Int, "1", "ONNX Runtime intra-op threads per inference", false, 1, 64},
      {"flip_augment", SettingType::Bool, "false",
       "Average each descriptor with its mirror image's (+1 inference; LFW 99.27 -> 99.32 %, docs/BENCHMARKS.md)"},
      {"image_min_side", SettingType::Int, "96", "Smallest accepted image side in pixels (3002 below)", false, 1,
       65535},
      {"image_max_side", SettingType::Int, "4096", "Largest accepted image side in pixels (3002 above)", false, 1,
       65535},
      // --- logging
      {"log_level", SettingType::String, "info", "debug | info | warn | error"},
  };
  return table;
}

}  // namespace app
