// PgStore, part 2: descriptors and their lifetime collector (API.md §6). The schema is at
// migration 2 in pg_migrations.cpp; the meaning of last_unlink_ms at the SQLite migration 2.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "store/pg_store_impl.hpp"

namespace store::pg {

Descriptor ReadDescriptor(const PgRows& r, int i, bool with_values) {
  Descriptor d;
  d.id = r.Text(i, 0);
  d.account_id = r.Text(i, 1);
  d.version = static_cast<uint32_t>(r.Int(i, 2));
  if (!r.IsNull(i, 3)) d.person_id = r.Text(i, 3);
  d.has_portrait = r.Bool(i, 4);
  d.create_time_ms = r.Int(i, 5);
  d.last_update_ms = r.Int(i, 6);
  d.lists = SplitIds(r.Text(i, 7));
  if (with_values) d.values = DecodeValues(r.Bytea(i, 8));
  return d;
}

core::Status InsertDescriptor(Connection& conn, const Descriptor& d) {
  if (d.person_id) return core::InternalError("create descriptors: person_id must be empty at creation");
  if (d.account_id.empty()) return core::InternalError("create descriptors: empty account_id");
  const std::string values = EncodeValues(d.values);
  const int64_t last_update = d.last_update_ms != 0 ? d.last_update_ms : d.create_time_ms;
  auto inserted = Q(conn,
                    "INSERT INTO descriptors(id, account_id, version, values_f32le, person_id, person_link_seq,"
                    " has_portrait, create_time_ms, last_update_ms, last_unlink_ms)"
                    " VALUES ($1, $2, $3, $4, NULL, NULL, $5, $6, $7, $6)",
                    "insert descriptor", d.id, d.account_id, int64_t{d.version}, Bytes{values}, d.has_portrait,
                    d.create_time_ms, last_update);
  if (!inserted) return std::move(inserted).error();
  return AppendChange(conn, d.account_id, ChangeKind::DescriptorAdded, d.id, "", "");
}

core::Status PgStore::CreateDescriptors(const std::vector<Descriptor>& descriptors) {
  return NoThrow("create descriptors", [&]() -> core::Status {
    if (descriptors.empty()) return {};
    for (const auto& d : descriptors) {
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

core::Result<std::optional<Descriptor>> PgStore::GetDescriptor(std::string_view account_id,
                                                               std::string_view descriptor_id) {
  return NoThrow("get descriptor", [&]() -> core::Result<std::optional<Descriptor>> {
    // One statement (the lists are a subquery): its own snapshot is enough.
    auto conn = AcquireReader();
    auto r = Q(*conn,
               "SELECT " FP_PG_DESCRIPTOR_COLUMNS ", d.values_f32le FROM descriptors d"
               " WHERE d.account_id = $1 AND d.id = $2",
               "get descriptor", account_id, descriptor_id);
    if (!r) return std::move(r).error();
    if (r->rows() == 0) return std::optional<Descriptor>();
    return std::optional<Descriptor>(ReadDescriptor(*r, 0, true));
  });
}

core::Result<PageOf<Descriptor>> PgStore::ListDescriptors(std::string_view account_id, PageRequest page,
                                                          bool with_values) {
  return NoThrow("list descriptors", [&]() -> core::Result<PageOf<Descriptor>> {
    return Read([&](Connection& conn) -> core::Result<PageOf<Descriptor>> {
      const std::string_view sql =
          with_values ? "SELECT " FP_PG_DESCRIPTOR_COLUMNS ", d.values_f32le FROM descriptors d WHERE d.account_id = $1"
                        " ORDER BY d.create_time_ms, d.ord LIMIT $2 OFFSET $3"
                      : "SELECT " FP_PG_DESCRIPTOR_COLUMNS " FROM descriptors d WHERE d.account_id = $1"
                        " ORDER BY d.create_time_ms, d.ord LIMIT $2 OFFSET $3";
      return QueryPage<Descriptor>(
          conn, "SELECT count(*) FROM descriptors WHERE account_id = $1", sql, "list descriptors", page,
          [&](const PgRows& r, int i) { return ReadDescriptor(r, i, with_values); }, account_id);
    });
  });
}

core::Status StreamDescriptors(Connection& conn, const std::function<bool(const Descriptor&)>& fn, bool* stopped) {
  // A cursor inside the caller's read transaction: the whole table never sits in memory, one
  // FETCH per 1000 rows. The rows come in binary format: the vectors as their 2,048 raw bytes
  // instead of 4 KB of hex that the server encodes and we decode; and the query runs without
  // JIT (compiling it costs more than it saves). docs/BENCHMARKS.md has the load times.
  *stopped = false;
  if (auto st = conn.ExecScript("SET LOCAL jit = off", "snapshot without jit"); !st) return st;
  if (auto st = conn.ExecScript("DECLARE fp_descriptors NO SCROLL CURSOR FOR SELECT " FP_PG_DESCRIPTOR_COLUMNS
                                ", d.values_f32le FROM descriptors d ORDER BY d.create_time_ms, d.ord",
                                "declare descriptor cursor");
      !st)
    return st;
  for (;;) {
    auto r = conn.Exec("FETCH 1000 FROM fp_descriptors", "fetch descriptors", {}, Connection::Results::Binary);
    if (!r) return std::move(r).error();
    for (int i = 0; i < r->rows(); ++i) {
      if (!fn(ReadDescriptor(*r, i, true))) {
        *stopped = true;
        return conn.ExecScript("CLOSE fp_descriptors", "close descriptor cursor");
      }
    }
    if (r->rows() < 1000) return conn.ExecScript("CLOSE fp_descriptors", "close descriptor cursor");
  }
}

core::Status PgStore::ForEachDescriptor(const std::function<bool(const Descriptor&)>& fn) {
  return NoThrow("for each descriptor", [&]() -> core::Status {
    return Read([&](Connection& conn) -> core::Status {
      bool stopped = false;
      return StreamDescriptors(conn, fn, &stopped);
    });
  });
}

core::Result<std::vector<CollectedDescriptor>> PgStore::CollectUnlinkedDescriptors(int64_t now_ms, int64_t ttl_ms) {
  return NoThrow("collect descriptors", [&]() -> core::Result<std::vector<CollectedDescriptor>> {
    if (ttl_ms < 0) return core::InternalError("collect descriptors: negative ttl");
    int64_t cutoff = 0;
    if (__builtin_sub_overflow(now_ms, ttl_ms, &cutoff)) return std::vector<CollectedDescriptor>();
    // One collector at a time across the nodes: a node that finds the collector lock taken
    // skips this pass (the other node is deleting the same candidates) instead of queueing.
    // Selection and deletion are one statement run under the write lock, which every link
    // also takes: no link can commit between "is it unlinked" and the delete, so a descriptor
    // that another node linked is either linked before this statement runs (and is not
    // selected) or linked after the commit (and fails with DescriptorNotFoundRef, as for any
    // deleted descriptor).
    return WriteIf(
        kCollectorLockKey,
        [&](Connection& conn) -> core::Result<std::vector<CollectedDescriptor>> {
          std::vector<CollectedDescriptor> out;
          auto r = Q(conn,
                     "DELETE FROM descriptors d WHERE d.person_id IS NULL AND d.last_unlink_ms < $1"
                     " AND NOT EXISTS (SELECT 1 FROM list_descriptors m WHERE m.descriptor_id = d.id)"
                     " RETURNING d.account_id, d.id, d.has_portrait, d.create_time_ms, d.ord",
                     "collect descriptors", cutoff);
          if (!r) return std::move(r).error();
          // The feed in a stable order (creation order) whatever order DELETE returned.
          std::vector<std::tuple<int64_t, int64_t, int>> order;
          for (int i = 0; i < r->rows(); ++i) order.emplace_back(r->Int(i, 3), r->Int(i, 4), i);
          std::sort(order.begin(), order.end());
          for (const auto& [t, o, i] : order)
            out.push_back(CollectedDescriptor{r->Text(i, 0), r->Text(i, 1), r->Bool(i, 2)});
          for (const auto& c : out)
            if (auto a = AppendChange(conn, c.account_id, ChangeKind::DescriptorRemoved, c.id, "", ""); !a)
              return std::move(a).error();
          return out;
        },
        [] { return core::Result<std::vector<CollectedDescriptor>>(std::vector<CollectedDescriptor>()); });
  });
}

core::Result<bool> PgStore::DescriptorExists(std::string_view descriptor_id) {
  return NoThrow("descriptor exists", [&]() -> core::Result<bool> {
    auto conn = AcquireReader();
    auto r = Q(*conn, "SELECT 1 FROM descriptors WHERE id = $1", "descriptor exists", descriptor_id);
    if (!r) return std::move(r).error();
    return r->rows() > 0;
  });
}

}  // namespace store::pg
