// PgStore, part 7: handlers (three per account). The schema is at migration 4 in
// pg_migrations.cpp.
#include <string>
#include <utility>

#include "core/uuid.hpp"
#include "store/store_util.hpp"
#include "store/pg_store_impl.hpp"

namespace store::pg {

core::Status InsertHandlers(Connection& conn, std::string_view account_id, int64_t create_time_ms) {
  for (HandlerType t : kAllHandlerTypes) {
    auto r = Q(conn,
               "INSERT INTO handlers(id, account_id, type, policies, version, create_time_ms, last_update_ms)"
               " VALUES ($1, $2, $3, '{}', 1, $4, $4)",
               "insert handler", core::NewUuid4(), account_id, HandlerTypeName(t), create_time_ms);
    if (!r) return std::move(r).error();
  }
  return {};
}

core::Result<std::optional<Handler>> PgStore::GetHandler(std::string_view account_id, HandlerType type) {
  return NoThrow("get handler", [&]() -> core::Result<std::optional<Handler>> {
    auto conn = AcquireReader();
    auto r = Q(*conn,
               "SELECT id, account_id, type, policies::text, version, create_time_ms, last_update_ms FROM handlers"
               " WHERE account_id = $1 AND type = $2",
               "get handler", account_id, HandlerTypeName(type));
    if (!r) return std::move(r).error();
    if (r->rows() == 0) return std::optional<Handler>();
    Handler h;
    h.id = r->Text(0, 0);
    h.account_id = r->Text(0, 1);
    h.type = ParseHandlerType(r->Text(0, 2));
    h.policies = r->Text(0, 3);
    h.version = r->Int(0, 4);
    h.create_time_ms = r->Int(0, 5);
    h.last_update_ms = r->Int(0, 6);
    return std::optional<Handler>(std::move(h));
  });
}

core::Result<std::optional<int64_t>> PgStore::PatchHandlerPolicies(std::string_view account_id, HandlerType type,
                                                                   std::string_view patch, int64_t now_ms) {
  return NoThrow("patch handler", [&]() -> core::Result<std::optional<int64_t>> {
    return Write([&](Connection& conn) -> core::Result<std::optional<int64_t>> {
      // Text that is not JSON fails the cast (and the transaction); JSON that is not an
      // object is refused before anything is written.
      auto kind = Q(conn, "SELECT jsonb_typeof($1::jsonb)", "check patch", patch);
      if (!kind) return core::InternalError("patch handler: the patch is not JSON: " + kind.error().log_detail);
      if (kind->Text(0, 0) != "object") return core::InternalError("patch handler: the patch is not a JSON object");
      // One statement reads, merges and writes under the row lock; the version is
      // incremented by the database.
      auto r = Q(conn,
                 "UPDATE handlers SET policies = faceport_json_merge_patch(policies, $3::jsonb),"
                 " version = version + 1, last_update_ms = $4 WHERE account_id = $1 AND type = $2 RETURNING version",
                 "patch handler", account_id, HandlerTypeName(type), patch, now_ms);
      if (!r) return std::move(r).error();
      if (r->rows() == 0) return std::optional<int64_t>();
      return std::optional<int64_t>(r->Int(0, 0));
    });
  });
}

}  // namespace store::pg
