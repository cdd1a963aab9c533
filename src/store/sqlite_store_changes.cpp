// SqliteStore, part 5: the change feed and the follower's snapshot (store.hpp, ChangeKind).
// The rows are appended by the write methods of the other parts, inside their transactions,
// through AppendChange or INSERT ... SELECT; the table is described at migration 3.
#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite_store_impl.hpp"

namespace store::sqlite {
namespace {

// The last seq ever assigned: sqlite_sequence keeps it even when pruning emptied the table.
core::Result<int64_t> LastSeqIn(Connection& conn) {
  auto seq = QueryInt(conn, "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)",
                      "last change seq");
  if (!seq) return std::move(seq).error();
  return seq->value_or(0);
}

core::Result<int64_t> PrunedIn(Connection& conn) {
  auto seq = QueryInt(conn, "SELECT pruned_up_to FROM change_feed WHERE id = 1", "pruned change seq");
  if (!seq) return std::move(seq).error();
  return seq->value_or(0);
}

}  // namespace

core::Status AppendChange(Connection& conn, std::string_view account_id, ChangeKind kind,
                          std::string_view descriptor_id, std::string_view person_id, std::string_view list_id) {
  auto inserted = Exec(conn,
                       "INSERT INTO changes(account_id, kind, descriptor_id, person_id, list_id)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)",
                       "append change", account_id, ChangeKindName(kind), descriptor_id, person_id, list_id);
  if (!inserted) return std::move(inserted).error();
  return {};
}

core::Result<std::vector<Change>> SqliteStore::ChangesSince(int64_t after_seq, int limit) {
  return NoThrow("changes since", [&]() -> core::Result<std::vector<Change>> {
    if (limit < 1) return core::InternalError("changes since: limit must be >= 1");
    after_seq = std::max<int64_t>(after_seq, 0);  // seqs start at 1
    return Read([&](Connection& conn) -> core::Result<std::vector<Change>> {
      // The prune horizon and the rows come from one snapshot: a prune committed in between
      // cannot make rows vanish unnoticed.
      auto pruned = PrunedIn(conn);
      if (!pruned) return std::move(pruned).error();
      if (after_seq < *pruned)
        return core::InternalError("change feed pruned: rows up to seq " + std::to_string(*pruned) +
                                   " are gone, asked for those after " + std::to_string(after_seq) +
                                   "; reload from a snapshot");
      std::vector<Change> out;
      std::optional<std::string> bad_kind;
      // Values only for DescriptorAdded (they never change, so reading them now is exact);
      // the LEFT JOIN leaves them NULL when the descriptor has been deleted since.
      auto st = ForEachRow(
          conn,
          "SELECT c.seq, c.account_id, c.kind, c.descriptor_id, c.person_id, c.list_id, d.version, d.values_f32le"
          " FROM changes c LEFT JOIN descriptors d"
          "  ON c.kind = 'descriptor_added' AND d.id = c.descriptor_id AND d.account_id = c.account_id"
          " WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2",
          "changes since",
          [&](const Stmt& row) {
            Change c;
            c.seq = row.ColumnInt64(0);
            c.account_id = row.ColumnText(1);
            const std::string kind = row.ColumnText(2);
            if (auto k = ParseChangeKind(kind))
              c.kind = *k;
            else
              bad_kind = kind;
            c.descriptor_id = row.ColumnText(3);
            c.person_id = row.ColumnText(4);
            c.list_id = row.ColumnText(5);
            if (!row.ColumnIsNull(7)) {
              c.version = static_cast<uint32_t>(row.ColumnInt64(6));
              c.values = DecodeValues(row.ColumnBlob(7));
            }
            out.push_back(std::move(c));
          },
          after_seq, int64_t{limit});
      if (!st) return std::move(st).error();
      if (bad_kind) return core::InternalError("changes since: unknown kind '" + *bad_kind + "'");
      return out;
    });
  });
}

core::Result<int64_t> SqliteStore::LastChangeSeq() {
  return NoThrow("last change seq", [&]() -> core::Result<int64_t> {
    auto conn = AcquireReader();
    return LastSeqIn(*conn);
  });
}

core::Result<int64_t> SqliteStore::PrunedChangeSeq() {
  return NoThrow("pruned change seq", [&]() -> core::Result<int64_t> {
    auto conn = AcquireReader();
    return PrunedIn(*conn);
  });
}

core::Status SqliteStore::PruneChanges(int64_t up_to_seq) {
  return NoThrow("prune changes", [&]() -> core::Status {
    return Write([&](Connection& conn) -> core::Status {
      auto last = LastSeqIn(conn);
      if (!last) return std::move(last).error();
      auto pruned = PrunedIn(conn);
      if (!pruned) return std::move(pruned).error();
      // Clamped: marking seqs not yet assigned as pruned would refuse them once they exist.
      const int64_t target = std::min(up_to_seq, *last);
      if (target <= *pruned) return {};
      auto deleted = Exec(conn, "DELETE FROM changes WHERE seq <= ?1", "prune changes", target);
      if (!deleted) return std::move(deleted).error();
      auto moved = Exec(conn, "UPDATE change_feed SET pruned_up_to = ?1 WHERE id = 1", "record prune", target);
      if (!moved) return std::move(moved).error();
      return {};
    });
  });
}

core::Result<int64_t> SqliteStore::Snapshot(const std::function<bool(const Descriptor&)>& on_descriptor,
                                            const PersonListMemberFn& on_person_list_member) {
  return NoThrow("snapshot", [&]() -> core::Result<int64_t> {
    // One read transaction: the seq, the descriptors and the memberships are one committed
    // state (WAL: writers go on meanwhile; their changes have higher seqs).
    return Read([&](Connection& conn) -> core::Result<int64_t> {
      auto seq = LastSeqIn(conn);
      if (!seq) return seq;
      bool stopped = false;
      if (auto st = StreamDescriptors(conn, on_descriptor, &stopped); !st) return std::move(st).error();
      if (stopped) return seq;
      // In link order (seq is the rowid: a scan of the table in its own order, no index and no
      // sort), which is also each person's link order. Going through the list_persons_person
      // index instead costs a random table lookup per membership (seconds for a million).
      auto st = conn.Prepare("SELECT account_id, list_id, person_id FROM list_persons ORDER BY seq",
                             "snapshot person lists");
      if (!st) return std::move(st).error();
      for (;;) {
        auto row = st->Step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        if (!on_person_list_member(st->ColumnText(0), st->ColumnText(1), st->ColumnText(2))) break;
      }
      return seq;
    });
  });
}

}  // namespace store::sqlite
