// SqliteStore, part 4: lists and the linker.
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite_store_impl.hpp"

namespace store::sqlite {
namespace {

// The list columns with the member count of the list's own type.
#define FP_LIST_COLUMNS                                                                       \
  "l.id, l.account_id, l.type, l.list_data, l.create_time_ms, CASE l.type"                   \
  " WHEN 'persons' THEN (SELECT count(*) FROM list_persons m WHERE m.list_id = l.id)"        \
  " ELSE (SELECT count(*) FROM list_descriptors m WHERE m.list_id = l.id) END"

List ReadList(const Stmt& st) {
  List l;
  l.id = st.ColumnText(0);
  l.account_id = st.ColumnText(1);
  l.type = ParseListType(st.ColumnText(2));
  l.list_data = st.ColumnText(3);
  l.create_time_ms = st.ColumnInt64(4);
  l.count = st.ColumnInt64(5);
  return l;
}

// For the list's own resources (GET /4/storage/lists/{id}): ListNotFound when the account
// has no such list, WrongListType {the list's type} when it holds the other kind.
core::Status CheckOwnList(Connection& conn, std::string_view account_id, std::string_view list_id, ListType want) {
  auto type = FindListType(conn, account_id, list_id);
  if (!type) return std::move(type).error();
  if (!*type) return core::MakeError(core::Errc::ListNotFound);
  if (**type != want) return core::MakeError(core::Errc::WrongListType, {std::string(ListTypeName(**type))});
  return {};
}

// Deletes one of the account's lists inside the caller's transaction; false when not found.
// Members are unlinked: persons' last_update and descriptors' last_update and lifetime
// clock are set to now_ms.
core::Result<bool> DeleteListIn(Connection& conn, std::string_view account_id, std::string_view list_id,
                                int64_t now_ms) {
  auto type = FindListType(conn, account_id, list_id);
  if (!type) return std::move(type).error();
  if (!*type) return false;
  auto touched =
      **type == ListType::Persons
          ? Exec(conn,
                 "UPDATE persons SET last_update_ms = ?2"
                 " WHERE id IN (SELECT person_id FROM list_persons WHERE list_id = ?1)",
                 "unlink list persons", list_id, now_ms)
          : Exec(conn,
                 "UPDATE descriptors SET last_update_ms = ?2, last_unlink_ms = ?2"
                 " WHERE id IN (SELECT descriptor_id FROM list_descriptors WHERE list_id = ?1)",
                 "unlink list descriptors", list_id, now_ms);
  if (!touched) return std::move(touched).error();
  // The change feed while the memberships still exist: each member leaves (link order), then
  // the list goes (store.hpp, DeleteList).
  auto fed = **type == ListType::Persons
                 ? Exec(conn,
                        "INSERT INTO changes(account_id, kind, descriptor_id, person_id, list_id)"
                        " SELECT account_id, 'list_member_removed', '', person_id, list_id FROM list_persons"
                        " WHERE list_id = ?1 ORDER BY seq",
                        "feed list persons", list_id)
                 : Exec(conn,
                        "INSERT INTO changes(account_id, kind, descriptor_id, person_id, list_id)"
                        " SELECT account_id, 'list_member_removed', descriptor_id, '', list_id FROM list_descriptors"
                        " WHERE list_id = ?1 ORDER BY seq",
                        "feed list descriptors", list_id);
  if (!fed) return std::move(fed).error();
  if (auto c = AppendChange(conn, account_id, ChangeKind::ListRemoved, "", "", list_id); !c)
    return std::move(c).error();
  // Memberships go with the list (ON DELETE CASCADE).
  return Modify(conn, "DELETE FROM lists WHERE account_id = ?1 AND id = ?2", "delete list", account_id, list_id);
}

// Whether the account owns the object (a person or a descriptor, by member type).
core::Result<bool> MemberExists(Connection& conn, std::string_view account_id, ListType type, std::string_view id) {
  auto found = type == ListType::Persons
                   ? QueryInt(conn, "SELECT 1 FROM persons WHERE account_id = ?1 AND id = ?2", "find person",
                              account_id, id)
                   : QueryInt(conn, "SELECT 1 FROM descriptors WHERE account_id = ?1 AND id = ?2", "find descriptor",
                              account_id, id);
  if (!found) return std::move(found).error();
  return found->has_value();
}

}  // namespace

// Attaches or detaches one member known to be the account's; no-op when already in that
// state. A real change updates the member's last_update (and, for a descriptor leaving a
// list, its lifetime clock).
core::Status LinkListMember(Connection& conn, std::string_view account_id, std::string_view list_id, ListType type,
                     LinkAction action, std::string_view id, int64_t now_ms) {
  const bool persons = type == ListType::Persons;
  core::Result<int64_t> changed = int64_t{0};
  if (action == LinkAction::Attach) {
    changed = persons ? Exec(conn,
                             "INSERT INTO list_persons(account_id, list_id, person_id, link_time_ms)"
                             " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (list_id, person_id) DO NOTHING",
                             "attach person to list", account_id, list_id, id, now_ms)
                      : Exec(conn,
                             "INSERT INTO list_descriptors(account_id, list_id, descriptor_id, link_time_ms)"
                             " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (list_id, descriptor_id) DO NOTHING",
                             "attach descriptor to list", account_id, list_id, id, now_ms);
  } else {
    changed = persons ? Exec(conn, "DELETE FROM list_persons WHERE list_id = ?1 AND person_id = ?2",
                             "detach person from list", list_id, id)
                      : Exec(conn, "DELETE FROM list_descriptors WHERE list_id = ?1 AND descriptor_id = ?2",
                             "detach descriptor from list", list_id, id);
  }
  if (!changed) return std::move(changed).error();
  if (*changed == 0) return {};
  core::Result<int64_t> touched = int64_t{0};
  if (persons)
    touched = Exec(conn, "UPDATE persons SET last_update_ms = ?2 WHERE id = ?1", "touch person", id, now_ms);
  else if (action == LinkAction::Attach)
    touched = Exec(conn, "UPDATE descriptors SET last_update_ms = ?2 WHERE id = ?1", "touch descriptor", id, now_ms);
  else
    touched = Exec(conn, "UPDATE descriptors SET last_update_ms = ?2, last_unlink_ms = ?2 WHERE id = ?1",
                   "unlink descriptor", id, now_ms);
  if (!touched) return std::move(touched).error();
  const ChangeKind kind = action == LinkAction::Attach ? ChangeKind::ListMemberAdded : ChangeKind::ListMemberRemoved;
  return AppendChange(conn, account_id, kind, persons ? std::string_view() : id, persons ? id : std::string_view(),
                      list_id);
}

core::Result<std::optional<ListType>> FindListType(Connection& conn, std::string_view account_id,
                                                   std::string_view list_id) {
  std::optional<ListType> type;
  auto st = ForEachRow(
      conn, "SELECT type FROM lists WHERE account_id = ?1 AND id = ?2", "find list",
      [&](const Stmt& row) { type = ParseListType(row.ColumnText(0)); },
      account_id, list_id);
  if (!st) return std::move(st).error();
  return type;
}

core::Status SqliteStore::CreateList(const List& list) {
  return NoThrow("create list", [&]() -> core::Status {
    if (list.account_id.empty()) return core::InternalError("create list: empty account_id");
    return Write([&](Connection& conn) -> core::Status {
      auto inserted = Exec(conn,
                           "INSERT INTO lists(id, account_id, type, list_data, create_time_ms)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
                           "insert list", list.id, list.account_id, ListTypeName(list.type), list.list_data,
                           list.create_time_ms);
      if (!inserted) return std::move(inserted).error();
      return {};
    });
  });
}

core::Result<std::optional<List>> SqliteStore::GetList(std::string_view account_id, std::string_view list_id) {
  return NoThrow("get list", [&]() -> core::Result<std::optional<List>> {
    // One statement: its own snapshot is enough.
    auto conn = AcquireReader();
    std::optional<List> found;
    auto st = ForEachRow(
        *conn, "SELECT " FP_LIST_COLUMNS " FROM lists l WHERE l.account_id = ?1 AND l.id = ?2", "get list",
        [&](const Stmt& row) { found = ReadList(row); }, account_id, list_id);
    if (!st) return std::move(st).error();
    return found;
  });
}

core::Result<std::optional<ListType>> SqliteStore::GetListType(std::string_view account_id, std::string_view list_id) {
  return NoThrow("get list type", [&]() -> core::Result<std::optional<ListType>> {
    auto conn = AcquireReader();
    return FindListType(*conn, account_id, list_id);
  });
}

core::Result<PageOf<List>> SqliteStore::ListLists(std::string_view account_id, ListType type, PageRequest page) {
  return NoThrow("list lists", [&]() -> core::Result<PageOf<List>> {
    return Read([&](Connection& conn) {
      return QueryPage<List>(conn, "SELECT count(*) FROM lists WHERE account_id = ?1 AND type = ?2",
                             "SELECT " FP_LIST_COLUMNS " FROM lists l WHERE l.account_id = ?1 AND l.type = ?2"
                             " ORDER BY l.create_time_ms, l.rowid LIMIT ?3 OFFSET ?4",
                             "list lists", page, ReadList, account_id, ListTypeName(type));
    });
  });
}

core::Result<PageOf<Person>> SqliteStore::ListPersonsInList(std::string_view account_id, std::string_view list_id,
                                                            PageRequest page) {
  return NoThrow("list persons in list", [&]() -> core::Result<PageOf<Person>> {
    return Read([&](Connection& conn) -> core::Result<PageOf<Person>> {
      if (auto c = CheckOwnList(conn, account_id, list_id, ListType::Persons); !c) return std::move(c).error();
      // Members in the persons' creation order (PageOf), not in link order.
      auto out = QueryPage<Person>(conn, "SELECT count(*) FROM list_persons WHERE list_id = ?1",
                                   "SELECT " FP_PERSON_COLUMNS " FROM list_persons m JOIN persons p ON p.id = m.person_id"
                                   " WHERE m.list_id = ?1 ORDER BY p.create_time_ms, p.rowid LIMIT ?2 OFFSET ?3",
                                   "list persons in list", page, ReadPerson, list_id);
      if (!out) return out;
      for (auto& p : out->items)
        if (auto f = FillPersonLinks(conn, p); !f) return std::move(f).error();
      return out;
    });
  });
}

core::Result<PageOf<Descriptor>> SqliteStore::ListDescriptorsInList(std::string_view account_id,
                                                                    std::string_view list_id, PageRequest page) {
  return NoThrow("list descriptors in list", [&]() -> core::Result<PageOf<Descriptor>> {
    return Read([&](Connection& conn) -> core::Result<PageOf<Descriptor>> {
      if (auto c = CheckOwnList(conn, account_id, list_id, ListType::Descriptors); !c) return std::move(c).error();
      auto out = QueryPage<Descriptor>(
          conn, "SELECT count(*) FROM list_descriptors WHERE list_id = ?1",
          "SELECT " FP_DESCRIPTOR_COLUMNS " FROM list_descriptors m JOIN descriptors d ON d.id = m.descriptor_id"
          " WHERE m.list_id = ?1 ORDER BY d.create_time_ms, d.rowid LIMIT ?2 OFFSET ?3",
          "list descriptors in list", page, [](const Stmt& row) { return ReadDescriptor(row, false); }, list_id);
      if (!out) return out;
      for (auto& d : out->items)
        if (auto f = FillDescriptorLists(conn, d); !f) return std::move(f).error();
      return out;
    });
  });
}

core::Result<bool> SqliteStore::UpdateListData(std::string_view account_id, std::string_view list_id,
                                               std::string_view list_data) {
  return NoThrow("update list", [&]() -> core::Result<bool> {
    return Write([&](Connection& conn) {
      return Modify(conn, "UPDATE lists SET list_data = ?3 WHERE account_id = ?1 AND id = ?2", "update list",
                    account_id, list_id, list_data);
    });
  });
}

core::Result<bool> SqliteStore::DeleteList(std::string_view account_id, std::string_view list_id, int64_t now_ms) {
  return NoThrow("delete list", [&]() -> core::Result<bool> {
    return Write([&](Connection& conn) { return DeleteListIn(conn, account_id, list_id, now_ms); });
  });
}

core::Status SqliteStore::DeleteLists(std::string_view account_id, const std::vector<std::string>& list_ids,
                                      int64_t now_ms) {
  return NoThrow("delete lists", [&]() -> core::Status {
    if (list_ids.empty()) return {};
    return Write([&](Connection& conn) -> core::Status {
      for (const auto& id : list_ids) {
        auto deleted = DeleteListIn(conn, account_id, id, now_ms);  // false (not the account's): ignored
        if (!deleted) return std::move(deleted).error();
      }
      return {};
    });
  });
}

core::Status SqliteStore::LinkList(std::string_view account_id, std::string_view list_id, ListType member_type,
                                   LinkAction action, const std::vector<std::string>& ids, int64_t now_ms) {
  return NoThrow("link list", [&]() -> core::Status {
    return Write([&](Connection& conn) -> core::Status {
      auto type = FindListType(conn, account_id, list_id);
      if (!type) return std::move(type).error();
      if (!*type) return core::MakeError(core::Errc::ListNotFoundRef);
      if (**type != member_type) return core::MakeError(core::Errc::WrongListType, {std::string(ListTypeName(**type))});
      // Every id is checked before anything is written (the transaction would undo a partial
      // change anyway, but this keeps the failure free of side effects by construction).
      for (const auto& id : ids) {
        auto exists = MemberExists(conn, account_id, member_type, id);
        if (!exists) return std::move(exists).error();
        if (!*exists) return core::MakeError(core::Errc::ObjectsNotFound, {std::string(ListTypeName(member_type))});
      }
      for (const auto& id : ids)
        if (auto st = LinkListMember(conn, account_id, list_id, member_type, action, id, now_ms); !st) return st;
      return {};
    });
  });
}

}  // namespace store::sqlite
