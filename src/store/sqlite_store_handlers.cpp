// SqliteStore, part 6: handlers (three per account). The schema is described at migration 4
// in sqlite_migrations.cpp.
#include <string>
#include <utility>

#include "core/uuid.hpp"
#include "store/store_util.hpp"
#include "store/sqlite_store_impl.hpp"

namespace store::sqlite {

core::Status InsertHandlers(Connection& conn, std::string_view account_id, int64_t create_time_ms) {
  for (HandlerType t : kAllHandlerTypes) {
    auto inserted = Exec(conn,
                         "INSERT INTO handlers(id, account_id, type, policies, version, create_time_ms, "
                         "last_update_ms) VALUES (?1, ?2, ?3, '{}', 1, ?4, ?4)",
                         "insert handler", core::NewUuid4(), account_id, HandlerTypeName(t), create_time_ms);
    if (!inserted) return std::move(inserted).error();
  }
  return {};
}

core::Result<std::optional<Handler>> SqliteStore::GetHandler(std::string_view account_id, HandlerType type) {
  return NoThrow("get handler", [&]() -> core::Result<std::optional<Handler>> {
    auto conn = AcquireReader();
    std::optional<Handler> found;
    auto st = ForEachRow(
        *conn,
        "SELECT id, account_id, type, policies, version, create_time_ms, last_update_ms FROM handlers"
        " WHERE account_id = ?1 AND type = ?2",
        "get handler",
        [&](const Stmt& row) {
          Handler h;
          h.id = row.ColumnText(0);
          h.account_id = row.ColumnText(1);
          h.type = ParseHandlerType(row.ColumnText(2));
          h.policies = row.ColumnText(3);
          h.version = row.ColumnInt64(4);
          h.create_time_ms = row.ColumnInt64(5);
          h.last_update_ms = row.ColumnInt64(6);
          found = std::move(h);
        },
        account_id, HandlerTypeName(type));
    if (!st) return std::move(st).error();
    return found;
  });
}

core::Result<std::optional<int64_t>> SqliteStore::PatchHandlerPolicies(std::string_view account_id, HandlerType type,
                                                                       std::string_view patch, int64_t now_ms) {
  return NoThrow("patch handler", [&]() -> core::Result<std::optional<int64_t>> {
    return Write([&](Connection& conn) -> core::Result<std::optional<int64_t>> {
      // One statement reads, merges and writes: no other writer can come in between, and the
      // version is incremented by the database, never computed by the caller. The CHECK on
      // policies refuses a patch that would not leave an object (json_patch of a non-object
      // replaces the whole value), so such a call fails and changes nothing.
      auto ok = QueryInt(conn, "SELECT json_valid(?1) AND json_type(?1) = 'object'", "check patch", patch);
      if (!ok) return std::move(ok).error();
      if (!ok->value_or(0)) return core::InternalError("patch handler: the patch is not a JSON object");
      return QueryInt(conn,
                      "UPDATE handlers SET policies = json_patch(policies, ?3), version = version + 1,"
                      " last_update_ms = ?4 WHERE account_id = ?1 AND type = ?2 RETURNING version",
                      "patch handler", account_id, HandlerTypeName(type), patch, now_ms);
    });
  });
}

}  // namespace store::sqlite
