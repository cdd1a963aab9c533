// PgStore, part 3: persons and the person <-> descriptor link (the same steps as the SQLite
// backend, sqlite_store_persons.cpp, whose comments explain them).
#include <string>
#include <utility>
#include <vector>

#include "store/pg_store_impl.hpp"

namespace store::pg {
namespace {

core::Result<bool> PersonExists(Connection& conn, std::string_view account_id, std::string_view person_id) {
  auto r = Q(conn, "SELECT 1 FROM persons WHERE account_id = $1 AND id = $2", "find person", account_id, person_id);
  if (!r) return std::move(r).error();
  return r->rows() > 0;
}

}  // namespace

Person ReadPerson(const PgRows& r, int i) {
  Person p;
  p.id = r.Text(i, 0);
  p.account_id = r.Text(i, 1);
  p.user_data = r.Text(i, 2);
  if (!r.IsNull(i, 3)) p.external_id = r.Text(i, 3);
  p.create_time_ms = r.Int(i, 4);
  p.last_update_ms = r.Int(i, 5);
  p.descriptors = SplitIds(r.Text(i, 6));
  p.lists = SplitIds(r.Text(i, 7));
  return p;
}

core::Status InsertPerson(Connection& conn, const Person& person) {
  if (person.account_id.empty()) return core::InternalError("create person: empty account_id");
  const int64_t last_update = person.last_update_ms != 0 ? person.last_update_ms : person.create_time_ms;
  auto r = Q(conn,
             "INSERT INTO persons(id, account_id, user_data, external_id, create_time_ms, last_update_ms)"
             " VALUES ($1, $2, $3, $4, $5, $6)",
             "insert person", person.id, person.account_id, person.user_data, person.external_id,
             person.create_time_ms, last_update);
  if (!r) return std::move(r).error();
  return {};
}

core::Status AttachDescriptor(Connection& conn, std::string_view account_id, std::string_view person_id,
                              std::string_view descriptor_id, int64_t now_ms) {
  auto linked = Exec(conn,
                     "UPDATE descriptors SET person_id = $2, last_update_ms = $3, person_link_seq ="
                     " (SELECT coalesce(max(person_link_seq), 0) + 1 FROM descriptors WHERE person_id = $2)"
                     " WHERE id = $1",
                     "attach descriptor", descriptor_id, person_id, now_ms);
  if (!linked) return std::move(linked).error();
  auto touched = Exec(conn, "UPDATE persons SET last_update_ms = $2 WHERE id = $1", "touch person", person_id, now_ms);
  if (!touched) return std::move(touched).error();
  return AppendChange(conn, account_id, ChangeKind::DescriptorPersonSet, descriptor_id, person_id, "");
}

core::Status PgStore::CreatePerson(const Person& person) {
  return NoThrow("create person", [&]() -> core::Status {
    if (person.account_id.empty()) return core::InternalError("create person: empty account_id");
    return Write([&](Connection& conn) -> core::Status { return InsertPerson(conn, person); });
  });
}

core::Result<std::optional<Person>> PgStore::GetPerson(std::string_view account_id, std::string_view person_id) {
  return NoThrow("get person", [&]() -> core::Result<std::optional<Person>> {
    auto conn = AcquireReader();
    auto r = Q(*conn, "SELECT " FP_PG_PERSON_COLUMNS " FROM persons p WHERE p.account_id = $1 AND p.id = $2",
               "get person", account_id, person_id);
    if (!r) return std::move(r).error();
    if (r->rows() == 0) return std::optional<Person>();
    return std::optional<Person>(ReadPerson(*r, 0));
  });
}

core::Result<PageOf<Person>> PgStore::ListPersons(std::string_view account_id, const PersonFilter& filter,
                                                  PageRequest page) {
  return NoThrow("list persons", [&]() -> core::Result<PageOf<Person>> {
    return Read([&](Connection& conn) -> core::Result<PageOf<Person>> {
      // $2 = user_data substring or NULL; strpos, not LIKE: '%' and '_' are literal and the
      // match is case-sensitive (SQLite: instr).
      if (filter.external_id)
        return QueryPage<Person>(conn,
                                 "SELECT count(*) FROM persons p WHERE p.account_id = $1 AND p.external_id = $3"
                                 " AND ($2::text IS NULL OR strpos(p.user_data, $2::text) > 0)",
                                 "SELECT " FP_PG_PERSON_COLUMNS " FROM persons p WHERE p.account_id = $1"
                                 " AND p.external_id = $3 AND ($2::text IS NULL OR strpos(p.user_data, $2::text) > 0)"
                                 " ORDER BY p.create_time_ms, p.ord LIMIT $4 OFFSET $5",
                                 "list persons by external_id", page, ReadPerson, account_id,
                                 filter.user_data_substring, *filter.external_id);
      return QueryPage<Person>(conn,
                               "SELECT count(*) FROM persons p WHERE p.account_id = $1"
                               " AND ($2::text IS NULL OR strpos(p.user_data, $2::text) > 0)",
                               "SELECT " FP_PG_PERSON_COLUMNS " FROM persons p WHERE p.account_id = $1"
                               " AND ($2::text IS NULL OR strpos(p.user_data, $2::text) > 0)"
                               " ORDER BY p.create_time_ms, p.ord LIMIT $3 OFFSET $4",
                               "list persons", page, ReadPerson, account_id, filter.user_data_substring);
    });
  });
}

core::Result<bool> PgStore::UpdatePerson(std::string_view account_id, std::string_view person_id,
                                         const std::optional<std::string>& user_data,
                                         const std::optional<std::string>& external_id, int64_t now_ms) {
  return NoThrow("update person", [&]() -> core::Result<bool> {
    return Write([&](Connection& conn) -> core::Result<bool> {
      if (!user_data && !external_id) return PersonExists(conn, account_id, person_id);
      return Modify(conn,
                    "UPDATE persons SET user_data = coalesce($3::text, user_data),"
                    " external_id = coalesce($4::text, external_id), last_update_ms = $5"
                    " WHERE account_id = $1 AND id = $2",
                    "update person", account_id, person_id, user_data, external_id, now_ms);
    });
  });
}

core::Result<bool> PgStore::DeletePerson(std::string_view account_id, std::string_view person_id, int64_t now_ms) {
  return NoThrow("delete person", [&]() -> core::Result<bool> {
    return Write([&](Connection& conn) -> core::Result<bool> {
      auto exists = PersonExists(conn, account_id, person_id);
      if (!exists || !*exists) return exists;
      // The change feed first, while the links still exist (store.hpp, DeletePerson).
      auto descs = Q(conn, "SELECT id FROM descriptors WHERE person_id = $1 ORDER BY person_link_seq",
                     "person descriptors", person_id);
      if (!descs) return std::move(descs).error();
      for (int i = 0; i < descs->rows(); ++i)
        if (auto c = AppendChange(conn, account_id, ChangeKind::DescriptorPersonSet, descs->Text(i, 0), "", ""); !c)
          return std::move(c).error();
      auto lists = Q(conn, "SELECT list_id FROM list_persons WHERE person_id = $1 ORDER BY seq", "person lists",
                     person_id);
      if (!lists) return std::move(lists).error();
      for (int i = 0; i < lists->rows(); ++i)
        if (auto c = AppendChange(conn, account_id, ChangeKind::ListMemberRemoved, "", person_id, lists->Text(i, 0));
            !c)
          return std::move(c).error();
      if (auto c = AppendChange(conn, account_id, ChangeKind::PersonRemoved, "", person_id, ""); !c)
        return std::move(c).error();
      auto unlinked = Exec(conn,
                           "UPDATE descriptors SET person_id = NULL, person_link_seq = NULL, last_unlink_ms = $2,"
                           " last_update_ms = $2 WHERE person_id = $1",
                           "unlink person descriptors", person_id, now_ms);
      if (!unlinked) return std::move(unlinked).error();
      return Modify(conn, "DELETE FROM persons WHERE account_id = $1 AND id = $2", "delete person", account_id,
                    person_id);
    });
  });
}

core::Status PgStore::LinkPersonDescriptor(std::string_view account_id, std::string_view person_id,
                                           std::string_view descriptor_id, LinkAction action, int64_t now_ms) {
  return NoThrow("link person descriptor", [&]() -> core::Status {
    return Write([&](Connection& conn) -> core::Status {
      auto person = PersonExists(conn, account_id, person_id);
      if (!person) return std::move(person).error();
      if (!*person) return core::MakeError(core::Errc::PersonNotFound);

      auto cur = Q(conn, "SELECT person_id FROM descriptors WHERE account_id = $1 AND id = $2", "find descriptor",
                   account_id, descriptor_id);
      if (!cur) return std::move(cur).error();
      if (cur->rows() == 0) return core::MakeError(core::Errc::DescriptorNotFoundRef, {std::string(descriptor_id)});
      std::optional<std::string> current;
      if (!cur->IsNull(0, 0)) current = cur->Text(0, 0);

      if (action == LinkAction::Attach) {
        if (current == person_id) return {};
        if (current) return core::MakeError(core::Errc::DescriptorAlreadyAttached);
        return AttachDescriptor(conn, account_id, person_id, descriptor_id, now_ms);
      }
      if (current != person_id) return {};
      auto unlinked = Exec(conn,
                           "UPDATE descriptors SET person_id = NULL, person_link_seq = NULL, last_unlink_ms = $2,"
                           " last_update_ms = $2 WHERE id = $1",
                           "detach descriptor", descriptor_id, now_ms);
      if (!unlinked) return std::move(unlinked).error();
      auto touched = Exec(conn, "UPDATE persons SET last_update_ms = $2 WHERE id = $1", "touch person", person_id,
                          now_ms);
      if (!touched) return std::move(touched).error();
      return AppendChange(conn, account_id, ChangeKind::DescriptorPersonSet, descriptor_id, "", "");
    });
  });
}

core::Status PgStore::CreatePersonWithDescriptor(const Person& person, const Descriptor& descriptor,
                                                 const std::optional<std::string>& list_id, int64_t now_ms) {
  return NoThrow("create person with descriptor", [&]() -> core::Status {
    if (person.account_id.empty() || person.account_id != descriptor.account_id)
      return core::InternalError("create person with descriptor: objects of different accounts");
    return Write([&](Connection& conn) -> core::Status {
      // The list is checked last, after the inserts (as in the SQLite backend): its failure
      // rolls back the rows written before it.
      if (auto st = InsertDescriptor(conn, descriptor); !st) return st;
      if (auto st = InsertPerson(conn, person); !st) return st;
      if (auto st = AttachDescriptor(conn, person.account_id, person.id, descriptor.id, now_ms); !st) return st;
      if (!list_id) return {};
      auto type = FindListType(conn, person.account_id, *list_id);
      if (!type) return std::move(type).error();
      if (!*type) return core::MakeError(core::Errc::ListNotFoundRef);
      if (**type != ListType::Persons) return core::MakeError(core::Errc::WrongListType, {"persons"});
      return LinkListMember(conn, person.account_id, *list_id, ListType::Persons, LinkAction::Attach, person.id,
                            now_ms);
    });
  });
}

}  // namespace store::pg
