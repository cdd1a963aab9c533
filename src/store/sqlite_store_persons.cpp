// SqliteStore, part 3: persons and the person <-> descriptor link.
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite_store_impl.hpp"

namespace store::sqlite {
namespace {

// The account's person exists (checked inside the caller's transaction).
core::Result<bool> PersonExists(Connection& conn, std::string_view account_id, std::string_view person_id) {
  auto found = QueryInt(conn, "SELECT 1 FROM persons WHERE account_id = ?1 AND id = ?2", "find person", account_id,
                        person_id);
  if (!found) return std::move(found).error();
  return found->has_value();
}

// Fills the arrays of every person of a page.
core::Status FillAll(Connection& conn, std::vector<Person>& persons) {
  for (auto& p : persons)
    if (auto f = FillPersonLinks(conn, p); !f) return f;
  return {};
}

}  // namespace

Person ReadPerson(const Stmt& st) {
  Person p;
  p.id = st.ColumnText(0);
  p.account_id = st.ColumnText(1);
  p.user_data = st.ColumnText(2);
  if (!st.ColumnIsNull(3)) p.external_id = st.ColumnText(3);
  p.create_time_ms = st.ColumnInt64(4);
  p.last_update_ms = st.ColumnInt64(5);
  return p;
}

core::Status FillPersonLinks(Connection& conn, Person& person) {
  auto descriptors = QueryTexts(conn, "SELECT id FROM descriptors WHERE person_id = ?1 ORDER BY person_link_seq",
                                "person descriptors", person.id);
  if (!descriptors) return std::move(descriptors).error();
  auto lists =
      QueryTexts(conn, "SELECT list_id FROM list_persons WHERE person_id = ?1 ORDER BY seq", "person lists", person.id);
  if (!lists) return std::move(lists).error();
  person.descriptors = std::move(*descriptors);
  person.lists = std::move(*lists);
  return {};
}

core::Status InsertPerson(Connection& conn, const Person& person) {
  if (person.account_id.empty()) return core::InternalError("create person: empty account_id");
  const int64_t last_update = person.last_update_ms != 0 ? person.last_update_ms : person.create_time_ms;
  auto inserted = Exec(conn,
                       "INSERT INTO persons(id, account_id, user_data, external_id, create_time_ms, "
                       "last_update_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                       "insert person", person.id, person.account_id, person.user_data, person.external_id,
                       person.create_time_ms, last_update);
  if (!inserted) return std::move(inserted).error();
  return {};
}

core::Status AttachDescriptor(Connection& conn, std::string_view account_id, std::string_view person_id,
                              std::string_view descriptor_id, int64_t now_ms) {
  auto linked = Exec(conn,
                     "UPDATE descriptors SET person_id = ?2, last_update_ms = ?3, person_link_seq ="
                     " (SELECT coalesce(max(person_link_seq), 0) + 1 FROM descriptors WHERE person_id = ?2)"
                     " WHERE id = ?1",
                     "attach descriptor", descriptor_id, person_id, now_ms);
  if (!linked) return std::move(linked).error();
  auto touched =
      Exec(conn, "UPDATE persons SET last_update_ms = ?2 WHERE id = ?1", "touch person", person_id, now_ms);
  if (!touched) return std::move(touched).error();
  return AppendChange(conn, account_id, ChangeKind::DescriptorPersonSet, descriptor_id, person_id, "");
}

core::Status SqliteStore::CreatePerson(const Person& person) {
  return NoThrow("create person", [&]() -> core::Status {
    // `descriptors` and `lists` are filled on reads only; links are made by the link methods.
    if (person.account_id.empty()) return core::InternalError("create person: empty account_id");
    return Write([&](Connection& conn) -> core::Status { return InsertPerson(conn, person); });
  });
}

core::Result<std::optional<Person>> SqliteStore::GetPerson(std::string_view account_id, std::string_view person_id) {
  return NoThrow("get person", [&]() -> core::Result<std::optional<Person>> {
    return Read([&](Connection& conn) -> core::Result<std::optional<Person>> {
      std::optional<Person> found;
      auto st = ForEachRow(
          conn, "SELECT " FP_PERSON_COLUMNS " FROM persons p WHERE p.account_id = ?1 AND p.id = ?2", "get person",
          [&](const Stmt& row) { found = ReadPerson(row); }, account_id, person_id);
      if (!st) return std::move(st).error();
      if (found)
        if (auto f = FillPersonLinks(conn, *found); !f) return std::move(f).error();
      return found;
    });
  });
}

core::Result<PageOf<Person>> SqliteStore::ListPersons(std::string_view account_id, const PersonFilter& filter,
                                                      PageRequest page) {
  return NoThrow("list persons", [&]() -> core::Result<PageOf<Person>> {
    return Read([&](Connection& conn) -> core::Result<PageOf<Person>> {
      // ?2 = user_data substring or NULL. instr() (strpos() in PostgreSQL), not LIKE: '%'
      // and '_' in the filter are literal characters, and the match is case-sensitive.
      // Two statement texts so that an external_id lookup uses its index instead of
      // scanning the account's persons.
      core::Result<PageOf<Person>> out = core::InternalError("unreachable");
      if (filter.external_id) {
        out = QueryPage<Person>(conn,
                                "SELECT count(*) FROM persons p WHERE p.account_id = ?1 AND p.external_id = ?3"
                                " AND (?2 IS NULL OR instr(p.user_data, ?2) > 0)",
                                "SELECT " FP_PERSON_COLUMNS " FROM persons p WHERE p.account_id = ?1"
                                " AND p.external_id = ?3 AND (?2 IS NULL OR instr(p.user_data, ?2) > 0)"
                                " ORDER BY p.create_time_ms, p.rowid LIMIT ?4 OFFSET ?5",
                                "list persons by external_id", page, ReadPerson, account_id,
                                filter.user_data_substring, *filter.external_id);
      } else {
        out = QueryPage<Person>(conn,
                                "SELECT count(*) FROM persons p WHERE p.account_id = ?1"
                                " AND (?2 IS NULL OR instr(p.user_data, ?2) > 0)",
                                "SELECT " FP_PERSON_COLUMNS " FROM persons p WHERE p.account_id = ?1"
                                " AND (?2 IS NULL OR instr(p.user_data, ?2) > 0)"
                                " ORDER BY p.create_time_ms, p.rowid LIMIT ?3 OFFSET ?4",
                                "list persons", page, ReadPerson, account_id, filter.user_data_substring);
      }
      if (!out) return out;
      if (auto f = FillAll(conn, out->items); !f) return std::move(f).error();
      return out;
    });
  });
}

core::Result<bool> SqliteStore::UpdatePerson(std::string_view account_id, std::string_view person_id,
                                             const std::optional<std::string>& user_data,
                                             const std::optional<std::string>& external_id, int64_t now_ms) {
  return NoThrow("update person", [&]() -> core::Result<bool> {
    return Write([&](Connection& conn) -> core::Result<bool> {
      // Nothing to change: only report whether the person exists (last_update unchanged).
      if (!user_data && !external_id) return PersonExists(conn, account_id, person_id);
      return Modify(conn,
                    "UPDATE persons SET user_data = coalesce(?3, user_data), external_id = coalesce(?4, external_id),"
                    " last_update_ms = ?5 WHERE account_id = ?1 AND id = ?2",
                    "update person", account_id, person_id, user_data, external_id, now_ms);
    });
  });
}

core::Result<bool> SqliteStore::DeletePerson(std::string_view account_id, std::string_view person_id,
                                             int64_t now_ms) {
  return NoThrow("delete person", [&]() -> core::Result<bool> {
    return Write([&](Connection& conn) -> core::Result<bool> {
      auto exists = PersonExists(conn, account_id, person_id);
      if (!exists || !*exists) return exists;
      // The change feed first, while the links still exist (store.hpp, DeletePerson): its
      // descriptors lose their person (link order), it leaves its lists (link order), it goes.
      auto fed = Exec(conn,
                      "INSERT INTO changes(account_id, kind, descriptor_id, person_id, list_id)"
                      " SELECT account_id, 'descriptor_person_set', id, '', '' FROM descriptors"
                      " WHERE person_id = ?1 ORDER BY person_link_seq",
                      "feed person descriptors", person_id);
      if (!fed) return std::move(fed).error();
      fed = Exec(conn,
                 "INSERT INTO changes(account_id, kind, descriptor_id, person_id, list_id)"
                 " SELECT account_id, 'list_member_removed', '', person_id, list_id FROM list_persons"
                 " WHERE person_id = ?1 ORDER BY seq",
                 "feed person lists", person_id);
      if (!fed) return std::move(fed).error();
      if (auto c = AppendChange(conn, account_id, ChangeKind::PersonRemoved, "", person_id, ""); !c)
        return std::move(c).error();
      // Unlink its descriptors first, restarting their lifetime clocks (the schema's ON
      // DELETE SET NULL would unlink them too, but without touching the clock).
      auto unlinked = Exec(conn,
                           "UPDATE descriptors SET person_id = NULL, person_link_seq = NULL, last_unlink_ms = ?2,"
                           " last_update_ms = ?2 WHERE person_id = ?1",
                           "unlink person descriptors", person_id, now_ms);
      if (!unlinked) return std::move(unlinked).error();
      // Its list memberships go with it (ON DELETE CASCADE).
      return Modify(conn, "DELETE FROM persons WHERE account_id = ?1 AND id = ?2", "delete person", account_id,
                    person_id);
    });
  });
}

core::Status SqliteStore::LinkPersonDescriptor(std::string_view account_id, std::string_view person_id,
                                               std::string_view descriptor_id, LinkAction action, int64_t now_ms) {
  return NoThrow("link person descriptor", [&]() -> core::Status {
    return Write([&](Connection& conn) -> core::Status {
      auto person = PersonExists(conn, account_id, person_id);
      if (!person) return std::move(person).error();
      if (!*person) return core::MakeError(core::Errc::PersonNotFound);

      // The descriptor's current person: row found / person_id (NULL = none).
      bool found = false;
      std::optional<std::string> current;
      auto st = ForEachRow(
          conn, "SELECT person_id FROM descriptors WHERE account_id = ?1 AND id = ?2", "find descriptor",
          [&](const Stmt& row) {
            found = true;
            if (!row.ColumnIsNull(0)) current = row.ColumnText(0);
          },
          account_id, descriptor_id);
      if (!st) return st;
      if (!found) return core::MakeError(core::Errc::DescriptorNotFoundRef, {std::string(descriptor_id)});

      if (action == LinkAction::Attach) {
        if (current == person_id) return {};  // already this person's: no-op
        if (current) return core::MakeError(core::Errc::DescriptorAlreadyAttached);
        return AttachDescriptor(conn, account_id, person_id, descriptor_id, now_ms);
      }
      if (current != person_id) return {};  // not this person's: no-op
      auto unlinked = Exec(conn,
                           "UPDATE descriptors SET person_id = NULL, person_link_seq = NULL, last_unlink_ms = ?2,"
                           " last_update_ms = ?2 WHERE id = ?1",
                           "detach descriptor", descriptor_id, now_ms);
      if (!unlinked) return std::move(unlinked).error();
      auto touched = Exec(conn, "UPDATE persons SET last_update_ms = ?2 WHERE id = ?1", "touch person", person_id,
                          now_ms);
      if (!touched) return std::move(touched).error();
      // Only real changes reach this point (no-ops returned above).
      return AppendChange(conn, account_id, ChangeKind::DescriptorPersonSet, descriptor_id, "", "");
    });
  });
}

core::Status SqliteStore::CreatePersonWithDescriptor(const Person& person, const Descriptor& descriptor,
                                                       const std::optional<std::string>& list_id, int64_t now_ms) {
  return NoThrow("create person with descriptor", [&]() -> core::Status {
    if (person.account_id.empty() || person.account_id != descriptor.account_id)
      return core::InternalError("create person with descriptor: objects of different accounts");
    return Write([&](Connection& conn) -> core::Status {
      // The list is checked last, after the inserts, on purpose: a list that is gone (or is
      // not the account's) is the one failure the API can meet here, and checking it last
      // means that failure really exercises the rollback of the rows written before it.
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

}  // namespace store::sqlite
