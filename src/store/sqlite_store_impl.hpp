#pragma once
// INTERNAL to fp_store (includes sqlite3.h through sqlite_conn.hpp): the SqliteStore class
// and the helpers its source files share. The class is split by resource family:
//   sqlite_store.cpp             accounts, tokens, opening the database
//   sqlite_store_descriptors.cpp descriptors, the lifetime collector
//   sqlite_store_persons.cpp     persons, person <-> descriptor links
//   sqlite_store_lists.cpp       lists, the linker
//   sqlite_store_changes.cpp     the change feed and the follower's snapshot
//   sqlite_store_handlers.cpp    handlers (policies, versions)
// Nothing outside src/store and tests/store may include this header.
//
// Concurrency design:
//  - reads take any free pooled connection and run concurrently (WAL lets readers proceed
//    while a writer commits; each sees the last committed state). A read that needs more
//    than one statement runs them in one read transaction (Read), so it sees one snapshot;
//  - writes first take write_mu_, then a connection, then BEGIN IMMEDIATE (Write). SQLite
//    allows one writer at a time anyway; queueing writers on a mutex in-process hands the
//    lock over immediately instead of having them poll the busy handler (which sleeps in
//    steps of up to 100 ms). busy_timeout still covers writers in other processes. The lock
//    order write_mu_ -> connection is fixed: a writer never holds a connection while waiting
//    for write_mu_, so writers cannot starve the pool and deadlock;
//  - since every write transaction starts with BEGIN IMMEDIATE, a write's checks ("does the
//    person exist", "is this descriptor unlinked") and its changes see the same state: no
//    other writer, in this process or another, can commit in between;
//  - ":memory:" uses exactly one connection. Sharing one in-memory database between
//    connections needs shared-cache mode, whose table locks fail with SQLITE_LOCKED, which
//    busy_timeout does not retry; and WAL does not apply to memory databases anyway.
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "store/sqlite_auth_cache.hpp"
#include "store/sqlite_conn.hpp"
#include "store/store_util.hpp"
#include "store/store.hpp"

namespace store::sqlite {

using store::NoThrow;
using store::PageOffset;

// A value bound as a BLOB (BindAt binds strings as TEXT).
struct Blob {
  std::string_view bytes;
};

// Binds each value to ?index, ?index+1, ... in order: integers as INTEGER, Blob as BLOB,
// an empty optional as NULL, the rest as TEXT.
inline core::Status BindOne(Stmt& st, int index, const Blob& b) { return st.BindBlob(index, b.bytes); }
template <class T>
core::Status BindOne(Stmt& st, int index, const std::optional<T>& v) {
  if (!v) return st.BindNull(index);
  return BindOne(st, index, *v);
}
template <class T>
core::Status BindOne(Stmt& st, int index, const T& v) {
  if constexpr (std::is_integral_v<T>)
    return st.BindInt64(index, static_cast<int64_t>(v));
  else
    return st.BindText(index, std::string_view(v));
}
inline core::Status BindAt(Stmt&, int) { return {}; }
template <class First, class... Rest>
core::Status BindAt(Stmt& st, int index, const First& first, const Rest&... rest) {
  if (auto s = BindOne(st, index, first); !s) return s;
  return BindAt(st, index + 1, rest...);
}

// Prepares sql on conn and binds args to ?1..?N.
template <class... Args>
core::Result<Stmt> PrepareBound(Connection& conn, std::string_view sql, std::string_view what, const Args&... args) {
  auto st = conn.Prepare(sql, what);
  if (!st) return st;
  if (auto b = BindAt(*st, 1, args...); !b) return std::move(b).error();
  return st;
}

// Runs a statement to completion (INSERT/UPDATE/DELETE) and returns how many rows it changed.
template <class... Args>
core::Result<int64_t> Exec(Connection& conn, std::string_view sql, std::string_view what, const Args&... args) {
  auto st = PrepareBound(conn, sql, what, args...);
  if (!st) return std::move(st).error();
  if (auto run = st->Run(); !run) return std::move(run).error();
  return conn.Changes();
}

// UPDATE/DELETE that reports whether any row matched.
template <class... Args>
core::Result<bool> Modify(Connection& conn, std::string_view sql, std::string_view what, const Args&... args) {
  auto changed = Exec(conn, sql, what, args...);
  if (!changed) return std::move(changed).error();
  return *changed > 0;
}

// Calls read(stmt) for every row of sql; read returns void.
template <class ReadRow, class... Args>
core::Status ForEachRow(Connection& conn, std::string_view sql, std::string_view what, ReadRow&& read,
                        const Args&... args) {
  auto st = PrepareBound(conn, sql, what, args...);
  if (!st) return std::move(st).error();
  for (;;) {
    auto row = st->Step();
    if (!row) return std::move(row).error();
    if (!*row) return {};
    read(*st);
  }
}

// The first column of the first row as an integer (nullopt when there is no row).
template <class... Args>
core::Result<std::optional<int64_t>> QueryInt(Connection& conn, std::string_view sql, std::string_view what,
                                              const Args&... args) {
  auto st = PrepareBound(conn, sql, what, args...);
  if (!st) return std::move(st).error();
  auto row = st->Step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<int64_t>();
  return std::optional<int64_t>(st->ColumnInt64(0));
}

// First column of every row, as text.
template <class... Args>
core::Result<std::vector<std::string>> QueryTexts(Connection& conn, std::string_view sql, std::string_view what,
                                                  const Args&... args) {
  std::vector<std::string> out;
  auto st = ForEachRow(
      conn, sql, what, [&](const Stmt& row) { out.push_back(row.ColumnText(0)); }, args...);
  if (!st) return std::move(st).error();
  return out;
}

// One page: count_sql (one integer) and page_sql take the same parameters ?1..?N = args;
// page_sql additionally takes LIMIT ?N+1 OFFSET ?N+2. Run inside a read transaction so that
// the count and the items come from one snapshot. An out-of-range request (page < 1,
// page_size < 1) selects nothing (a negative LIMIT would mean "no limit" to SQLite).
template <class T, class ReadRow, class... Args>
core::Result<PageOf<T>> QueryPage(Connection& conn, std::string_view count_sql, std::string_view page_sql,
                                  std::string_view what, PageRequest page, ReadRow&& read, const Args&... args) {
  PageOf<T> out;
  auto count = QueryInt(conn, count_sql, what, args...);
  if (!count) return std::move(count).error();
  out.count = count->value_or(0);
  if (page.page < 1 || page.page_size < 1) return out;
  const int64_t offset = PageOffset(page.page, page.page_size);
  if (offset >= out.count) return out;
  auto st = ForEachRow(
      conn, page_sql, what, [&](const Stmt& row) { out.items.push_back(read(row)); }, args..., page.page_size,
      offset);
  if (!st) return std::move(st).error();
  return out;
}


class SqliteStore final : public Store {
 public:
  SqliteStore(std::vector<std::unique_ptr<Connection>> conns, const std::string& path)
      : pool_(std::move(conns)), auth_cache_(path) {}

  core::Status Ping() override;

  // accounts, tokens (sqlite_store.cpp)
  core::Status CreateAccount(const Account& account, const Token& first_token) override;
  core::Result<std::optional<Account>> FindAccountByEmail(std::string_view email_lower) override;
  core::Result<std::optional<Account>> FindAccountById(std::string_view account_id) override;
  core::Result<bool> SetAccountSuspended(std::string_view email_lower, bool suspended) override;
  core::Result<std::optional<Account>> FindTokenOwner(std::string_view token_id) override;
  core::Status CreateToken(const Token& token) override;
  core::Result<PageOf<Token>> ListTokens(std::string_view account_id, PageRequest page) override;
  core::Result<std::optional<Token>> GetToken(std::string_view account_id, std::string_view token_id) override;
  core::Result<bool> UpdateTokenData(std::string_view account_id, std::string_view token_id,
                                     std::string_view token_data) override;
  core::Result<bool> DeleteToken(std::string_view account_id, std::string_view token_id) override;
  core::Status DeleteTokens(std::string_view account_id, const std::vector<std::string>& token_ids) override;

  // descriptors, lifetime (sqlite_store_descriptors.cpp)
  core::Status CreateDescriptors(const std::vector<Descriptor>& descriptors) override;
  core::Result<std::optional<Descriptor>> GetDescriptor(std::string_view account_id,
                                                        std::string_view descriptor_id) override;
  core::Result<PageOf<Descriptor>> ListDescriptors(std::string_view account_id, PageRequest page,
                                                   bool with_values) override;
  core::Status ForEachDescriptor(const std::function<bool(const Descriptor&)>& fn) override;
  core::Result<std::vector<CollectedDescriptor>> CollectUnlinkedDescriptors(int64_t now_ms, int64_t ttl_ms) override;
  core::Result<bool> DescriptorExists(std::string_view descriptor_id) override;

  // persons (sqlite_store_persons.cpp)
  core::Status CreatePerson(const Person& person) override;
  core::Result<std::optional<Person>> GetPerson(std::string_view account_id, std::string_view person_id) override;
  core::Result<PageOf<Person>> ListPersons(std::string_view account_id, const PersonFilter& filter,
                                           PageRequest page) override;
  core::Result<bool> UpdatePerson(std::string_view account_id, std::string_view person_id,
                                  const std::optional<std::string>& user_data,
                                  const std::optional<std::string>& external_id, int64_t now_ms) override;
  core::Result<bool> DeletePerson(std::string_view account_id, std::string_view person_id, int64_t now_ms) override;
  core::Status LinkPersonDescriptor(std::string_view account_id, std::string_view person_id,
                                    std::string_view descriptor_id, LinkAction action, int64_t now_ms) override;

  // lists, linker (sqlite_store_lists.cpp)
  core::Status CreateList(const List& list) override;
  core::Result<std::optional<List>> GetList(std::string_view account_id, std::string_view list_id) override;
  core::Result<std::optional<ListType>> GetListType(std::string_view account_id, std::string_view list_id) override;
  core::Result<PageOf<List>> ListLists(std::string_view account_id, ListType type, PageRequest page) override;
  core::Result<PageOf<Person>> ListPersonsInList(std::string_view account_id, std::string_view list_id,
                                                 PageRequest page) override;
  core::Result<PageOf<Descriptor>> ListDescriptorsInList(std::string_view account_id, std::string_view list_id,
                                                         PageRequest page) override;
  core::Result<bool> UpdateListData(std::string_view account_id, std::string_view list_id,
                                    std::string_view list_data) override;
  core::Result<bool> DeleteList(std::string_view account_id, std::string_view list_id, int64_t now_ms) override;
  core::Status DeleteLists(std::string_view account_id, const std::vector<std::string>& list_ids,
                           int64_t now_ms) override;
  core::Status LinkList(std::string_view account_id, std::string_view list_id, ListType member_type,
                        LinkAction action, const std::vector<std::string>& ids, int64_t now_ms) override;

  // handlers (sqlite_store_handlers.cpp); CreatePersonWithDescriptor (sqlite_store_persons.cpp)
  core::Result<std::optional<Handler>> GetHandler(std::string_view account_id, HandlerType type) override;
  core::Result<std::optional<int64_t>> PatchHandlerPolicies(std::string_view account_id, HandlerType type,
                                                            std::string_view patch, int64_t now_ms) override;
  core::Status CreatePersonWithDescriptor(const Person& person, const Descriptor& descriptor,
                                          const std::optional<std::string>& list_id, int64_t now_ms) override;

  // change feed, snapshot (sqlite_store_changes.cpp)
  core::Result<std::vector<Change>> ChangesSince(int64_t after_seq, int limit) override;
  core::Result<int64_t> LastChangeSeq() override;
  core::Status PruneChanges(int64_t up_to_seq) override;
  core::Result<int64_t> PrunedChangeSeq() override;
  core::Result<int64_t> Snapshot(const std::function<bool(const Descriptor&)>& on_descriptor,
                                 const PersonListMemberFn& on_person_list_member) override;

  // --- shared by the source files (connection-level steps inside a transaction) ---------

  // Write for the accounts and tokens tables: bumps the auth cache's generation after the
  // transaction ends (committed or not: a needless bump only costs a cache refill), before
  // the caller can answer its client.
  template <class Fn>
  auto AuthWrite(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    auto result = Write(std::forward<Fn>(fn));
    auth_cache_.Bump();
    return result;
  }

  // Runs fn(conn) in a BEGIN IMMEDIATE transaction and commits if fn succeeded; on any
  // failure the transaction is rolled back (Tx's destructor), so writes are all-or-nothing.
  template <class Fn>
  auto Write(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    std::lock_guard write_lock(write_mu_);  // before the connection: see the file comment
    auto conn = pool_.Acquire();
    auto tx = Tx::Begin(*conn, Tx::Mode::Immediate);
    if (!tx) return std::move(tx).error();
    auto result = fn(*conn);
    if (!result) return result;
    if (auto c = tx->Commit(); !c) return std::move(c).error();
    return result;
  }

  // Runs fn(conn) in one read transaction (one snapshot for all its statements).
  template <class Fn>
  auto Read(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    auto conn = pool_.Acquire();
    auto tx = Tx::Begin(*conn, Tx::Mode::Deferred);
    if (!tx) return std::move(tx).error();
    auto result = fn(*conn);
    if (!result) return result;
    if (auto c = tx->Commit(); !c) return std::move(c).error();
    return result;
  }

  // A single statement needs no explicit transaction.
  Pool::Lease AcquireReader() { return pool_.Acquire(); }

 private:
  Pool pool_;
  std::mutex write_mu_;
  AuthCache auth_cache_;  // token -> owner / token row; every accounts/tokens write bumps it
};

// --- row readers and array fillers shared across families ---------------------------------

// Column list matching ReadPerson (a macro so that it joins SQL string literals).
#define FP_PERSON_COLUMNS "p.id, p.account_id, p.user_data, p.external_id, p.create_time_ms, p.last_update_ms"
Person ReadPerson(const Stmt& st);
// Fills person.descriptors and person.lists (oldest link first).
core::Status FillPersonLinks(Connection& conn, Person& person);

// Column list matching ReadDescriptor; with values, FP_DESCRIPTOR_COLUMNS ", d.values_f32le".
#define FP_DESCRIPTOR_COLUMNS \
  "d.id, d.account_id, d.version, d.person_id, d.has_portrait, d.create_time_ms, d.last_update_ms"
Descriptor ReadDescriptor(const Stmt& st, bool with_values);
// Fills descriptor.lists (oldest link first).
core::Status FillDescriptorLists(Connection& conn, Descriptor& descriptor);

// Streams every descriptor (values, person_id and lists filled) in creation order to fn,
// inside the caller's read transaction. *stopped is set when fn returned false.
core::Status StreamDescriptors(Connection& conn, const std::function<bool(const Descriptor&)>& fn, bool* stopped);

// Appends one change-feed row inside the caller's write transaction (store.hpp, ChangeKind;
// seq is assigned by the table). Absent ids are "".
core::Status AppendChange(Connection& conn, std::string_view account_id, ChangeKind kind,
                          std::string_view descriptor_id, std::string_view person_id, std::string_view list_id);

// Row-level steps shared by the single-object methods and CreatePersonWithDescriptor, each
// inside the caller's write transaction and with the same checks and change-feed rows as the
// public method it comes from:
//   InsertDescriptor  CreateDescriptors for one descriptor (DescriptorAdded);
//   InsertPerson      CreatePerson;
//   AttachDescriptor  attaches an unlinked descriptor to a person (both known to be the
//                     account's): link order, last_update of both, DescriptorPersonSet;
//   LinkListMember    attaches/detaches one member known to be the account's to/from a list
//                     of the right type; no-op when already in that state (ListMember* rows);
//   InsertHandlers    the account's three handlers (CreateAccount).
core::Status InsertDescriptor(Connection& conn, const Descriptor& descriptor);
core::Status InsertPerson(Connection& conn, const Person& person);
core::Status AttachDescriptor(Connection& conn, std::string_view account_id, std::string_view person_id,
                              std::string_view descriptor_id, int64_t now_ms);
core::Status LinkListMember(Connection& conn, std::string_view account_id, std::string_view list_id, ListType type,
                            LinkAction action, std::string_view id, int64_t now_ms);
core::Status InsertHandlers(Connection& conn, std::string_view account_id, int64_t create_time_ms);

// The account's list with its type (nullopt when the account has no such list).
core::Result<std::optional<ListType>> FindListType(Connection& conn, std::string_view account_id,
                                                   std::string_view list_id);

}  // namespace store::sqlite
