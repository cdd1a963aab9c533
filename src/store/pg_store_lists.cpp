// PgStore, part 4: lists and the linker (the same steps as sqlite_store_lists.cpp).
#include <string>
#include <utility>
#include <vector>

#include "store/pg_store_impl.hpp"

namespace store::pg {
namespace {

#define FP_PG_LIST_COLUMNS                                                             \
  "l.id, l.account_id, l.type, l.list_data, l.create_time_ms, CASE l.type"             \
  " WHEN 'persons' THEN (SELECT count(*) FROM list_persons m WHERE m.list_id = l.id)"  \
  " ELSE (SELECT count(*) FROM list_descriptors m WHERE m.list_id = l.id) END"

List ReadList(const PgRows& r, int i) {
  List l;
  l.id = r.Text(i, 0);
  l.account_id = r.Text(i, 1);
  l.type = ParseListType(r.Text(i, 2));
  l.list_data = r.Text(i, 3);
  l.create_time_ms = r.Int(i, 4);
  l.count = r.Int(i, 5);
  return l;
}

core::Status CheckOwnList(Connection& conn, std::string_view account_id, std::string_view list_id, ListType want) {
  auto type = FindListType(conn, account_id, list_id);
  if (!type) return std::move(type).error();
  if (!*type) return core::MakeError(core::Errc::ListNotFound);
  if (**type != want) return core::MakeError(core::Errc::WrongListType, {std::string(ListTypeName(**type))});
  return {};
}

core::Result<bool> DeleteListIn(Connection& conn, std::string_view account_id, std::string_view list_id,
                                int64_t now_ms) {
  auto type = FindListType(conn, account_id, list_id);
  if (!type) return std::move(type).error();
  if (!*type) return false;
  const bool persons = **type == ListType::Persons;
  auto touched = persons ? Exec(conn,
                                "UPDATE persons SET last_update_ms = $2"
                                " WHERE id IN (SELECT person_id FROM list_persons WHERE list_id = $1)",
                                "unlink list persons", list_id, now_ms)
                         : Exec(conn,
                                "UPDATE descriptors SET last_update_ms = $2, last_unlink_ms = $2"
                                " WHERE id IN (SELECT descriptor_id FROM list_descriptors WHERE list_id = $1)",
                                "unlink list descriptors", list_id, now_ms);
  if (!touched) return std::move(touched).error();
  // The change feed while the memberships still exist: each member leaves (link order), then
  // the list goes.
  auto members = persons ? Q(conn, "SELECT person_id FROM list_persons WHERE list_id = $1 ORDER BY seq",
                             "list persons", list_id)
                         : Q(conn, "SELECT descriptor_id FROM list_descriptors WHERE list_id = $1 ORDER BY seq",
                             "list descriptors", list_id);
  if (!members) return std::move(members).error();
  for (int i = 0; i < members->rows(); ++i) {
    const std::string id = members->Text(i, 0);
    if (auto c = AppendChange(conn, account_id, ChangeKind::ListMemberRemoved, persons ? "" : id, persons ? id : "",
                              list_id);
        !c)
      return std::move(c).error();
  }
  if (auto c = AppendChange(conn, account_id, ChangeKind::ListRemoved, "", "", list_id); !c)
    return std::move(c).error();
  return Modify(conn, "DELETE FROM lists WHERE account_id = $1 AND id = $2", "delete list", account_id, list_id);
}

core::Result<bool> MemberExists(Connection& conn, std::string_view account_id, ListType type, std::string_view id) {
  auto r = type == ListType::Persons
               ? Q(conn, "SELECT 1 FROM persons WHERE account_id = $1 AND id = $2", "find person", account_id, id)
               : Q(conn, "SELECT 1 FROM descriptors WHERE account_id = $1 AND id = $2", "find descriptor", account_id,
                   id);
  if (!r) return std::move(r).error();
  return r->rows() > 0;
}

}  // namespace

core::Status LinkListMember(Connection& conn, std::string_view account_id, std::string_view list_id, ListType type,
                     LinkAction action, std::string_view id, int64_t now_ms) {
  const bool persons = type == ListType::Persons;
  core::Result<int64_t> changed = int64_t{0};
  if (action == LinkAction::Attach) {
    changed = persons ? Exec(conn,
                             "INSERT INTO list_persons(account_id, list_id, person_id, link_time_ms)"
                             " VALUES ($1, $2, $3, $4) ON CONFLICT (list_id, person_id) DO NOTHING",
                             "attach person to list", account_id, list_id, id, now_ms)
                      : Exec(conn,
                             "INSERT INTO list_descriptors(account_id, list_id, descriptor_id, link_time_ms)"
                             " VALUES ($1, $2, $3, $4) ON CONFLICT (list_id, descriptor_id) DO NOTHING",
                             "attach descriptor to list", account_id, list_id, id, now_ms);
  } else {
    changed = persons ? Exec(conn, "DELETE FROM list_persons WHERE list_id = $1 AND person_id = $2",
                             "detach person from list", list_id, id)
                      : Exec(conn, "DELETE FROM list_descriptors WHERE list_id = $1 AND descriptor_id = $2",
                             "detach descriptor from list", list_id, id);
  }
  if (!changed) return std::move(changed).error();
  if (*changed == 0) return {};
  core::Result<int64_t> touched = int64_t{0};
  if (persons)
    touched = Exec(conn, "UPDATE persons SET last_update_ms = $2 WHERE id = $1", "touch person", id, now_ms);
  else if (action == LinkAction::Attach)
    touched = Exec(conn, "UPDATE descriptors SET last_update_ms = $2 WHERE id = $1", "touch descriptor", id, now_ms);
  else
    touched = Exec(conn, "UPDATE descriptors SET last_update_ms = $2, last_unlink_ms = $2 WHERE id = $1",
                   "unlink descriptor", id, now_ms);
  if (!touched) return std::move(touched).error();
  const ChangeKind kind = action == LinkAction::Attach ? ChangeKind::ListMemberAdded : ChangeKind::ListMemberRemoved;
  return AppendChange(conn, account_id, kind, persons ? std::string_view() : id, persons ? id : std::string_view(),
                      list_id);
}

core::Result<std::optional<ListType>> FindListType(Connection& conn, std::string_view account_id,
                                                   std::string_view list_id) {
  auto r = Q(conn, "SELECT type FROM lists WHERE account_id = $1 AND id = $2", "find list", account_id, list_id);
  if (!r) return std::move(r).error();
  if (r->rows() == 0) return std::optional<ListType>();
  return std::optional<ListType>(ParseListType(r->Text(0, 0)));
}

core::Status PgStore::CreateList(const List& list) {
  return NoThrow("create list", [&]() -> core::Status {
    if (list.account_id.empty()) return core::InternalError("create list: empty account_id");
    return Write([&](Connection& conn) -> core::Status {
      auto r = Q(conn, "INSERT INTO lists(id, account_id, type, list_data, create_time_ms) VALUES ($1, $2, $3, $4, $5)",
                 "insert list", list.id, list.account_id, ListTypeName(list.type), list.list_data,
                 list.create_time_ms);
      if (!r) return std::move(r).error();
      return {};
    });
  });
}

core::Result<std::optional<List>> PgStore::GetList(std::string_view account_id, std::string_view list_id) {
  return NoThrow("get list", [&]() -> core::Result<std::optional<List>> {
    auto conn = AcquireReader();
    auto r = Q(*conn, "SELECT " FP_PG_LIST_COLUMNS " FROM lists l WHERE l.account_id = $1 AND l.id = $2", "get list",
               account_id, list_id);
    if (!r) return std::move(r).error();
    if (r->rows() == 0) return std::optional<List>();
    return std::optional<List>(ReadList(*r, 0));
  });
}

core::Result<std::optional<ListType>> PgStore::GetListType(std::string_view account_id, std::string_view list_id) {
  return NoThrow("get list type", [&]() -> core::Result<std::optional<ListType>> {
    auto conn = AcquireReader();
    return FindListType(*conn, account_id, list_id);
  });
}

core::Result<PageOf<List>> PgStore::ListLists(std::string_view account_id, ListType type, PageRequest page) {
  return NoThrow("list lists", [&]() -> core::Result<PageOf<List>> {
    return Read([&](Connection& conn) {
      return QueryPage<List>(conn, "SELECT count(*) FROM lists WHERE account_id = $1 AND type = $2",
                             "SELECT " FP_PG_LIST_COLUMNS " FROM lists l WHERE l.account_id = $1 AND l.type = $2"
                             " ORDER BY l.create_time_ms, l.ord LIMIT $3 OFFSET $4",
                             "list lists", page, ReadList, account_id, ListTypeName(type));
    });
  });
}

core::Result<PageOf<Person>> PgStore::ListPersonsInList(std::string_view account_id, std::string_view list_id,
                                                        PageRequest page) {
  return NoThrow("list persons in list", [&]() -> core::Result<PageOf<Person>> {
    return Read([&](Connection& conn) -> core::Result<PageOf<Person>> {
      if (auto c = CheckOwnList(conn, account_id, list_id, ListType::Persons); !c) return std::move(c).error();
      return QueryPage<Person>(conn, "SELECT count(*) FROM list_persons WHERE list_id = $1",
                               "SELECT " FP_PG_PERSON_COLUMNS " FROM list_persons lm JOIN persons p ON p.id = lm.person_id"
                               " WHERE lm.list_id = $1 ORDER BY p.create_time_ms, p.ord LIMIT $2 OFFSET $3",
                               "list persons in list", page, ReadPerson, list_id);
    });
  });
}

core::Result<PageOf<Descriptor>> PgStore::ListDescriptorsInList(std::string_view account_id,
                                                                std::string_view list_id, PageRequest page) {
  return NoThrow("list descriptors in list", [&]() -> core::Result<PageOf<Descriptor>> {
    return Read([&](Connection& conn) -> core::Result<PageOf<Descriptor>> {
      if (auto c = CheckOwnList(conn, account_id, list_id, ListType::Descriptors); !c) return std::move(c).error();
      return QueryPage<Descriptor>(
          conn, "SELECT count(*) FROM list_descriptors WHERE list_id = $1",
          "SELECT " FP_PG_DESCRIPTOR_COLUMNS " FROM list_descriptors lm JOIN descriptors d ON d.id = lm.descriptor_id"
          " WHERE lm.list_id = $1 ORDER BY d.create_time_ms, d.ord LIMIT $2 OFFSET $3",
          "list descriptors in list", page, [](const PgRows& r, int i) { return ReadDescriptor(r, i, false); },
          list_id);
    });
  });
}

core::Result<bool> PgStore::UpdateListData(std::string_view account_id, std::string_view list_id,
                                           std::string_view list_data) {
  return NoThrow("update list", [&]() -> core::Result<bool> {
    return Write([&](Connection& conn) {
      return Modify(conn, "UPDATE lists SET list_data = $3 WHERE account_id = $1 AND id = $2", "update list",
                    account_id, list_id, list_data);
    });
  });
}

core::Result<bool> PgStore::DeleteList(std::string_view account_id, std::string_view list_id, int64_t now_ms) {
  return NoThrow("delete list", [&]() -> core::Result<bool> {
    return Write([&](Connection& conn) { return DeleteListIn(conn, account_id, list_id, now_ms); });
  });
}

core::Status PgStore::DeleteLists(std::string_view account_id, const std::vector<std::string>& list_ids,
                                  int64_t now_ms) {
  return NoThrow("delete lists", [&]() -> core::Status {
    if (list_ids.empty()) return {};
    return Write([&](Connection& conn) -> core::Status {
      for (const auto& id : list_ids) {
        auto deleted = DeleteListIn(conn, account_id, id, now_ms);
        if (!deleted) return std::move(deleted).error();
      }
      return {};
    });
  });
}

core::Status PgStore::LinkList(std::string_view account_id, std::string_view list_id, ListType member_type,
                               LinkAction action, const std::vector<std::string>& ids, int64_t now_ms) {
  return NoThrow("link list", [&]() -> core::Status {
    return Write([&](Connection& conn) -> core::Status {
      auto type = FindListType(conn, account_id, list_id);
      if (!type) return std::move(type).error();
      if (!*type) return core::MakeError(core::Errc::ListNotFoundRef);
      if (**type != member_type) return core::MakeError(core::Errc::WrongListType, {std::string(ListTypeName(**type))});
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

}  // namespace store::pg
