#pragma once
// The SQLite backend of store::Store (the embedded default). This header is the only part of
// the backend other modules see: it names no SQLite type, so nothing outside fp_store needs
// sqlite3.h.
//
// What OpenSqliteStore guarantees:
//  - the database is in WAL mode (file databases), synchronous=FULL, foreign_keys=ON, and
//    each connection waits up to busy_timeout_ms for locks held by other processes;
//  - every numbered migration (sqlite_migrations.cpp) not yet recorded in schema_migrations
//    has been applied, all of them in one transaction; a database whose schema is newer than
//    this binary knows is refused (Errc::Internal) rather than silently used;
//  - the returned Store honours every contract in store.hpp and never throws.
#include <memory>
#include <string>

#include "core/result.hpp"
#include "store/store.hpp"

namespace store {

struct SqliteOptions {
  // A filesystem path (created if missing; its directory must exist) or ":memory:".
  // ":memory:" gives a private, empty database that lives as long as the Store (tests).
  // It always uses a single connection: see sqlite_store_impl.hpp for why.
  std::string path;
  // Connections kept open; reads run concurrently on up to this many of them. >= 1.
  int pool_size = 4;
  // How long one statement waits on a lock held by another process before failing. >= 0.
  int busy_timeout_ms = 5000;
};

// Opens (creating if needed) and migrates the database. Errc::Internal with a log_detail
// naming the step and the SQLite message when anything fails, or when the options are
// out of range.
core::Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace store
