// PgStore, part 5: the change feed and the follower's snapshot (store.hpp, ChangeKind). The
// rows are appended by the write methods of the other parts through AppendChange, inside
// their transactions; the tables and why seq comes from a counter are at migration 3.
#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "store/pg_store_impl.hpp"

namespace store::pg {
namespace {

core::Result<std::pair<int64_t, int64_t>> CounterIn(Connection& conn) {
  auto r = conn.Exec("SELECT seq, pruned_up_to FROM change_counter WHERE id = 1", "change counter");
  if (!r) return std::move(r).error();
  if (r->rows() == 0) return core::InternalError("change counter: row missing");
  return std::make_pair(r->Int(0, 0), r->Int(0, 1));
}

}  // namespace

core::Status AppendChange(Connection& conn, std::string_view account_id, ChangeKind kind,
                          std::string_view descriptor_id, std::string_view person_id, std::string_view list_id) {
  // The counter row is updated under the write lock the caller holds: seq order is commit
  // order, and a rollback takes the number back.
  auto r = Q(conn,
             "WITH next AS (UPDATE change_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq)"
             " INSERT INTO changes(seq, account_id, kind, descriptor_id, person_id, list_id)"
             " SELECT next.seq, $1, $2, $3, $4, $5 FROM next",
             "append change", account_id, ChangeKindName(kind), descriptor_id, person_id, list_id);
  if (!r) return std::move(r).error();
  if (r->affected() != 1) return core::InternalError("append change: change_counter row missing");
  conn.fed_changes = true;
  return {};
}

core::Result<std::vector<Change>> PgStore::ChangesSince(int64_t after_seq, int limit) {
  return NoThrow("changes since", [&]() -> core::Result<std::vector<Change>> {
    if (limit < 1) return core::InternalError("changes since: limit must be >= 1");
    after_seq = std::max<int64_t>(after_seq, 0);
    return Read([&](Connection& conn) -> core::Result<std::vector<Change>> {
      auto counter = CounterIn(conn);
      if (!counter) return std::move(counter).error();
      const int64_t pruned = counter->second;
      if (after_seq < pruned)
        return core::InternalError("change feed pruned: rows up to seq " + std::to_string(pruned) +
                                   " are gone, asked for those after " + std::to_string(after_seq) +
                                   "; reload from a snapshot");
      auto r = Q(conn,
                 "SELECT c.seq, c.account_id, c.kind, c.descriptor_id, c.person_id, c.list_id, d.version, d.values_f32le"
                 " FROM changes c LEFT JOIN descriptors d"
                 "  ON c.kind = 'descriptor_added' AND d.id = c.descriptor_id AND d.account_id = c.account_id"
                 " WHERE c.seq > $1 ORDER BY c.seq LIMIT $2",
                 "changes since", after_seq, int64_t{limit});
      if (!r) return std::move(r).error();
      std::vector<Change> out;
      out.reserve(static_cast<size_t>(r->rows()));
      for (int i = 0; i < r->rows(); ++i) {
        Change c;
        c.seq = r->Int(i, 0);
        c.account_id = r->Text(i, 1);
        const std::string kind = r->Text(i, 2);
        auto k = ParseChangeKind(kind);
        if (!k) return core::InternalError("changes since: unknown kind '" + kind + "'");
        c.kind = *k;
        c.descriptor_id = r->Text(i, 3);
        c.person_id = r->Text(i, 4);
        c.list_id = r->Text(i, 5);
        if (!r->IsNull(i, 7)) {
          c.version = static_cast<uint32_t>(r->Int(i, 6));
          c.values = DecodeValues(r->Bytea(i, 7));
        }
        out.push_back(std::move(c));
      }
      return out;
    });
  });
}

core::Result<int64_t> PgStore::LastChangeSeq() {
  return NoThrow("last change seq", [&]() -> core::Result<int64_t> {
    auto conn = AcquireReader();
    auto c = CounterIn(*conn);
    if (!c) return std::move(c).error();
    return c->first;
  });
}

core::Result<int64_t> PgStore::PrunedChangeSeq() {
  return NoThrow("pruned change seq", [&]() -> core::Result<int64_t> {
    auto conn = AcquireReader();
    auto c = CounterIn(*conn);
    if (!c) return std::move(c).error();
    return c->second;
  });
}

core::Status PgStore::PruneChanges(int64_t up_to_seq) {
  return NoThrow("prune changes", [&]() -> core::Status {
    return Write([&](Connection& conn) -> core::Status {
      auto c = CounterIn(conn);
      if (!c) return std::move(c).error();
      const int64_t target = std::min(up_to_seq, c->first);
      if (target <= c->second) return {};
      auto deleted = Exec(conn, "DELETE FROM changes WHERE seq <= $1", "prune changes", target);
      if (!deleted) return std::move(deleted).error();
      auto moved = Exec(conn, "UPDATE change_counter SET pruned_up_to = $1 WHERE id = 1", "record prune", target);
      if (!moved) return std::move(moved).error();
      return {};
    });
  });
}

core::Result<int64_t> PgStore::Snapshot(const std::function<bool(const Descriptor&)>& on_descriptor,
                                        const PersonListMemberFn& on_person_list_member) {
  return NoThrow("snapshot", [&]() -> core::Result<int64_t> {
    // One REPEATABLE READ transaction: the counter, the descriptors and the memberships are
    // one committed state (writers go on meanwhile; their changes have higher seqs).
    return Read([&](Connection& conn) -> core::Result<int64_t> {
      auto c = CounterIn(conn);
      if (!c) return std::move(c).error();
      const int64_t seq = c->first;
      bool stopped = false;
      if (auto st = StreamDescriptors(conn, on_descriptor, &stopped); !st) return std::move(st).error();
      if (stopped) return seq;
      // In link order, which is also each person's link order (as the SQLite store).
      auto r = conn.Exec("SELECT account_id, list_id, person_id FROM list_persons ORDER BY seq",
                         "snapshot person lists");
      if (!r) return std::move(r).error();
      for (int i = 0; i < r->rows(); ++i)
        if (!on_person_list_member(r->Text(i, 0), r->Text(i, 1), r->Text(i, 2))) break;
      return seq;
    });
  });
}

}  // namespace store::pg
