// SqliteStore, part 2: descriptors and their lifetime collector (API.md §6). The schema and
// the meaning of last_unlink_ms are described at migration 2 in sqlite_migrations.cpp.
#include <bit>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite_store_impl.hpp"

namespace store::sqlite {
namespace {

constexpr std::string_view kGetDescriptor =
    "SELECT " FP_DESCRIPTOR_COLUMNS ", d.values_f32le FROM descriptors d WHERE d.account_id = ?1 AND d.id = ?2";

}  // namespace

Descriptor ReadDescriptor(const Stmt& st, bool with_values) {
  Descriptor d;
  d.id = st.ColumnText(0);
  d.account_id = st.ColumnText(1);
  d.version = static_cast<uint32_t>(st.ColumnInt64(2));
  if (!st.ColumnIsNull(3)) d.person_id = st.ColumnText(3);
  d.has_portrait = st.ColumnInt64(4) != 0;
  d.create_time_ms = st.ColumnInt64(5);
  d.last_update_ms = st.ColumnInt64(6);
  if (with_values) d.values = DecodeValues(st.ColumnBlob(7));
  return d;
}

core::Status FillDescriptorLists(Connection& conn, Descriptor& descriptor) {
  auto lists = QueryTexts(conn, "SELECT list_id FROM list_descriptors WHERE descriptor_id = ?1 ORDER BY seq",
                          "descriptor lists", descriptor.id);
  if (!lists) return std::move(lists).error();
  descriptor.lists = std::move(*lists);
  return {};
}

core::Status InsertDescriptor(Connection& conn, const Descriptor& d) {
  if (d.person_id) return core::InternalError("create descriptors: person_id must be empty at creation");
  if (d.account_id.empty()) return core::InternalError("create descriptors: empty account_id");
  const std::string values = EncodeValues(d.values);
  const int64_t last_update = d.last_update_ms != 0 ? d.last_update_ms : d.create_time_ms;
  auto inserted = Exec(conn,
                       "INSERT INTO descriptors(id, account_id, version, values_f32le, person_id, "
                       "person_link_seq, has_portrait, create_time_ms, last_update_ms, last_unlink_ms) "
                       "VALUES (?1, ?2, ?3, ?4, NULL, NULL, ?5, ?6, ?7, ?6)",
                       "insert descriptor", d.id, d.account_id, int64_t{d.version}, Blob{values},
                       int64_t{d.has_portrait ? 1 : 0}, d.create_time_ms, last_update);
  if (!inserted) return std::move(inserted).error();
  return AppendChange(conn, d.account_id, ChangeKind::DescriptorAdded, d.id, "", "");
}

core::Status SqliteStore::CreateDescriptors(const std::vector<Descriptor>& descriptors) {
  return NoThrow("create descriptors", [&]() -> core::Status {
    if (descriptors.empty()) return {};
    for (const auto& d : descriptors) {
      // A new descriptor starts unlinked: links are made by LinkPersonDescriptor / LinkList,
      // which check tenancy. (`lists` is filled on reads only and is ignored here.)
      if (d.person_id) return core::InternalError("create descriptors: person_id must be empty at creation");
      if (d.account_id.empty()) return core::InternalError("create descriptors: empty account_id");
    }
    return Write([&](Connection& conn) -> core::Status {
      for (const auto& d : descriptors)
        if (auto st = InsertDescriptor(conn, d); !st) return st;
      return {};
    });
  });
}

core::Result<std::optional<Descriptor>> SqliteStore::GetDescriptor(std::string_view account_id,
                                                                   std::string_view descriptor_id) {
  return NoThrow("get descriptor", [&]() -> core::Result<std::optional<Descriptor>> {
    return Read([&](Connection& conn) -> core::Result<std::optional<Descriptor>> {
      std::optional<Descriptor> found;
      auto st = ForEachRow(
          conn, kGetDescriptor, "get descriptor", [&](const Stmt& row) { found = ReadDescriptor(row, true); },
          account_id, descriptor_id);
      if (!st) return std::move(st).error();
      if (found)
        if (auto f = FillDescriptorLists(conn, *found); !f) return std::move(f).error();
      return found;
    });
  });
}

core::Result<PageOf<Descriptor>> SqliteStore::ListDescriptors(std::string_view account_id, PageRequest page,
                                                              bool with_values) {
  return NoThrow("list descriptors", [&]() -> core::Result<PageOf<Descriptor>> {
    return Read([&](Connection& conn) -> core::Result<PageOf<Descriptor>> {
      // Two statement texts: without values the BLOB is not read at all.
      const std::string_view sql =
          with_values ? "SELECT " FP_DESCRIPTOR_COLUMNS ", d.values_f32le FROM descriptors d WHERE d.account_id = ?1 "
                        "ORDER BY d.create_time_ms, d.rowid LIMIT ?2 OFFSET ?3"
                      : "SELECT " FP_DESCRIPTOR_COLUMNS " FROM descriptors d WHERE d.account_id = ?1 "
                        "ORDER BY d.create_time_ms, d.rowid LIMIT ?2 OFFSET ?3";
      auto out = QueryPage<Descriptor>(
          conn, "SELECT count(*) FROM descriptors WHERE account_id = ?1", sql, "list descriptors", page,
          [&](const Stmt& row) { return ReadDescriptor(row, with_values); }, account_id);
      if (!out) return out;
      for (auto& d : out->items)
        if (auto f = FillDescriptorLists(conn, d); !f) return std::move(f).error();
      return out;
    });
  });
}

core::Status StreamDescriptors(Connection& conn, const std::function<bool(const Descriptor&)>& fn, bool* stopped) {
  // The descriptors_time index gives creation order, ties in rowid (insertion) order,
  // without sorting the BLOBs.
  *stopped = false;
  auto st = conn.Prepare("SELECT " FP_DESCRIPTOR_COLUMNS
                         ", d.values_f32le FROM descriptors d ORDER BY d.create_time_ms, d.rowid",
                         "for each descriptor");
  if (!st) return std::move(st).error();
  for (;;) {
    auto row = st->Step();
    if (!row) return std::move(row).error();
    if (!*row) return {};
    Descriptor d = ReadDescriptor(*st, true);
    if (auto f = FillDescriptorLists(conn, d); !f) return f;
    if (!fn(d)) {
      *stopped = true;
      return {};
    }
  }
}

core::Status SqliteStore::ForEachDescriptor(const std::function<bool(const Descriptor&)>& fn) {
  return NoThrow("for each descriptor", [&]() -> core::Status {
    // One read transaction: a consistent snapshot however long fn takes (writers are not
    // blocked in WAL mode).
    return Read([&](Connection& conn) -> core::Status {
      bool stopped = false;
      return StreamDescriptors(conn, fn, &stopped);
    });
  });
}

core::Result<std::vector<CollectedDescriptor>> SqliteStore::CollectUnlinkedDescriptors(int64_t now_ms,
                                                                                       int64_t ttl_ms) {
  return NoThrow("collect descriptors", [&]() -> core::Result<std::vector<CollectedDescriptor>> {
    if (ttl_ms < 0) return core::InternalError("collect descriptors: negative ttl");
    int64_t cutoff = 0;
    // An underflow means nothing can be old enough.
    if (__builtin_sub_overflow(now_ms, ttl_ms, &cutoff)) return std::vector<CollectedDescriptor>();
    // Selection and deletion are one statement inside a BEGIN IMMEDIATE transaction: no
    // link can be committed between "is it unlinked" and the delete, so a descriptor linked
    // when this commits was never deleted. (A PostgreSQL backend needs the same guarantee
    // from row locks: lock the candidates FOR UPDATE and re-check, or run SERIALIZABLE.)
    return Write([&](Connection& conn) -> core::Result<std::vector<CollectedDescriptor>> {
      std::vector<CollectedDescriptor> out;
      auto st = ForEachRow(
          conn,
          "DELETE FROM descriptors WHERE id IN ("
          " SELECT d.id FROM descriptors d"
          " WHERE d.person_id IS NULL AND d.last_unlink_ms < ?1"
          " AND NOT EXISTS (SELECT 1 FROM list_descriptors m WHERE m.descriptor_id = d.id))"
          " RETURNING account_id, id, has_portrait",
          "collect descriptors",
          [&](const Stmt& row) {
            out.push_back(CollectedDescriptor{row.ColumnText(0), row.ColumnText(1), row.ColumnInt64(2) != 0});
          },
          cutoff);
      if (!st) return std::move(st).error();
      for (const auto& c : out)
        if (auto a = AppendChange(conn, c.account_id, ChangeKind::DescriptorRemoved, c.id, "", ""); !a)
          return std::move(a).error();
      return out;
    });
  });
}

core::Result<bool> SqliteStore::DescriptorExists(std::string_view descriptor_id) {
  return NoThrow("descriptor exists", [&]() -> core::Result<bool> {
    auto conn = AcquireReader();
    auto found = QueryInt(*conn, "SELECT 1 FROM descriptors WHERE id = ?1", "descriptor exists", descriptor_id);
    if (!found) return std::move(found).error();
    return found->has_value();
  });
}

}  // namespace store::sqlite
