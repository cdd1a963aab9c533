#pragma once
// The PostgreSQL backend of store::Store: several faceport nodes share one database. This
// header is the only part of the backend other modules see: it names no libpq type.
//
// What OpenPgStore guarantees:
//  - every numbered migration (pg_migrations.cpp) not yet recorded in schema_migrations has
//    been applied, in one transaction, by exactly one of the nodes starting at once; a
//    database whose schema is newer than this binary knows is refused;
//  - the returned Store honours every contract in store.hpp (the contract suite runs on it)
//    and never throws. Writes are all-or-nothing transactions, serialised across ALL nodes by
//    one transaction-level advisory lock, so each write's checks and changes see one state and
//    the change feed's seq is gap-free and in commit order (pg_store_impl.hpp);
//  - CollectUnlinkedDescriptors runs on one node at a time (pg_try_advisory_xact_lock: a node
//    that finds another collecting returns an empty result) and deletes only descriptors that
//    are unlinked at its commit;
//  - ListenForChanges wakes the caller when any node commits a change (LISTEN/NOTIFY);
//  - a connection the server dropped is reconnected on its next use.
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "store/store.hpp"

namespace store {

struct PgOptions {
  // A libpq URL: postgresql://[user[:password]@]host[:port]/dbname[?param=value...].
  std::string url;
  // Connections kept open per node; reads run concurrently on up to this many. >= 1.
  int pool_size = 4;
};

// Connects, migrates and returns the store. Errc::Internal with a log_detail naming the step
// (never the password) when anything fails or the options are out of range.
core::Result<std::unique_ptr<Store>> OpenPgStore(const PgOptions& options);

// Whether a database setting selects this backend (postgresql:// or postgres://).
bool IsPgUrl(std::string_view url);
// The URL with its password replaced by "***" (for logs); unchanged when it has none.
std::string RedactUrlPassword(std::string_view url);

}  // namespace store
