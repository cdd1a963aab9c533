#pragma once
// The one place that turns settings into the option structs of each module and builds the
// object graph (store, face engine, authenticator, API, HTTP server).
#include <memory>
#include <string>

#include "api/auth.hpp"
#include "core/result.hpp"
#include "core/settings.hpp"
#include "face/engine.hpp"
#include "http/server.hpp"
#include "store/portraits.hpp"
#include "store/store.hpp"

namespace app {

http::ServerOptions ServerOptionsFrom(const core::Settings& s);
api::AuthOptions AuthOptionsFrom(const core::Settings& s);
face::EngineOptions EngineOptionsFrom(const core::Settings& s);
std::string DatabasePath(const core::Settings& s);
// What the logs may say about the database: the SQLite path, or database_url with its
// password masked.
std::string DatabaseForLog(const core::Settings& s);
// database_url set: opens the PostgreSQL store (several nodes); otherwise creates the data
// directory if needed and opens the embedded SQLite store.
core::Result<std::unique_ptr<store::Store>> OpenStore(const core::Settings& s);

std::string PortraitsDir(const core::Settings& s);
// Opens the portrait directory and removes orphan files (files whose descriptor row is absent:
// left by a crash between writing files and committing the row) older than
// portrait_orphan_age_s (other nodes may be writing right now).
core::Result<std::unique_ptr<store::PortraitStore>> OpenPortraits(const core::Settings& s, store::Store& store);

// `faceport serve`: runs until SIGTERM/SIGINT; returns the process exit code.
int RunServe(const core::Settings& s);
// `faceport gc`: one pass of the descriptor collector; returns the process exit code.
int RunGc(const core::Settings& s);

}  // namespace app
