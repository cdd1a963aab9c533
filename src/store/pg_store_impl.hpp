#pragma once
// INTERNAL to fp_store: the PostgreSQL store class and the helpers its source files share
// (one source file per resource family, mirroring the SQLite backend).
//
// Concurrency design (several processes on one database):
//  - every write method runs in one transaction (READ COMMITTED) that first takes
//    pg_advisory_xact_lock(kWriteLockKey), held until COMMIT/ROLLBACK. Writers of ALL nodes are
//    thus serialised exactly as SQLite's BEGIN IMMEDIATE serialises them: a write's checks
//    ("does the person exist", "is this descriptor unlinked") and its changes see one state
//    (each READ COMMITTED statement sees everything committed before the lock was granted,
//    and nobody else can commit meanwhile). It also makes the change feed's seq (taken from
//    change_counter) gap-free and commit-ordered, and PostgreSQL makes a transaction visible
//    before it releases its locks, so a reader that sees seq N sees every seq < N.
//    The price is one writer at a time across the cluster (commit latency bounds the write
//    rate: docs/BENCHMARKS.md); reads are not serialised;
//  - inside one process, writers also queue on a mutex BEFORE taking a connection, so that at
//    most one pooled connection waits on the advisory lock and readers are never starved of
//    connections by waiting writers;
//  - multi-statement reads run in REPEATABLE READ READ ONLY transactions (one snapshot);
//  - a write that appended change-feed rows sends NOTIFY faceport_changes before COMMIT
//    (PostgreSQL delivers it at commit, and only if the transaction commits).
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/pg_conn.hpp"
#include "store/store.hpp"
#include "store/store_util.hpp"

namespace store::pg {

// Advisory lock keys (one 64-bit key space per database; "fpt" + a number).
inline constexpr int64_t kWriteLockKey = 0x66707401;      // every write transaction
inline constexpr int64_t kCollectorLockKey = 0x66707402;  // one descriptor collector at a time
inline constexpr int64_t kMigrationLockKey = 0x66707403;  // schema migrations at start-up
inline constexpr const char* kNotifyChannel = "faceport_changes";

// Runs sql with args as $1..$N.
template <class... Args>
core::Result<PgRows> Q(Connection& conn, std::string_view sql, std::string_view what, const Args&... args) {
  return conn.Exec(sql, what, MakeParams(args...));
}

// UPDATE/DELETE that reports whether any row matched.
template <class... Args>
core::Result<bool> Modify(Connection& conn, std::string_view sql, std::string_view what, const Args&... args) {
  auto r = Q(conn, sql, what, args...);
  if (!r) return std::move(r).error();
  return r->affected() > 0;
}

// INSERT/UPDATE/DELETE returning how many rows it changed.
template <class... Args>
core::Result<int64_t> Exec(Connection& conn, std::string_view sql, std::string_view what, const Args&... args) {
  auto r = Q(conn, sql, what, args...);
  if (!r) return std::move(r).error();
  return r->affected();
}

// One page: count_sql (one integer) and page_sql take $1..$N = args; page_sql additionally
// takes LIMIT $N+1 OFFSET $N+2. Run inside a read transaction so that the count and the items
// come from one snapshot. read(rows, i) converts one row.
template <class T, class ReadRow, class... Args>
core::Result<PageOf<T>> QueryPage(Connection& conn, std::string_view count_sql, std::string_view page_sql,
                                  std::string_view what, PageRequest page, ReadRow&& read, const Args&... args) {
  PageOf<T> out;
  auto count = Q(conn, count_sql, what, args...);
  if (!count) return std::move(count).error();
  out.count = count->rows() > 0 ? count->Int(0, 0) : 0;
  if (page.page < 1 || page.page_size < 1) return out;
  const int64_t offset = PageOffset(page.page, page.page_size);
  if (offset >= out.count) return out;
  auto rows = Q(conn, page_sql, what, args..., page.page_size, offset);
  if (!rows) return std::move(rows).error();
  for (int i = 0; i < rows->rows(); ++i) out.items.push_back(read(*rows, i));
  return out;
}


// Space-separated ids (string_agg of service-generated uuids) -> vector.
std::vector<std::string> SplitIds(const std::string& joined);

class PgStore final : public Store {
 public:
  PgStore(std::vector<std::unique_ptr<Connection>> conns, std::string url)
      : pool_(std::move(conns)), url_(std::move(url)) {}

  core::Status Ping() override;

  // accounts, tokens (pg_store.cpp)
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

  // descriptors, lifetime (pg_store_descriptors.cpp)
  core::Status CreateDescriptors(const std::vector<Descriptor>& descriptors) override;
  core::Result<std::optional<Descriptor>> GetDescriptor(std::string_view account_id,
                                                        std::string_view descriptor_id) override;
  core::Result<PageOf<Descriptor>> ListDescriptors(std::string_view account_id, PageRequest page,
                                                   bool with_values) override;
  core::Status ForEachDescriptor(const std::function<bool(const Descriptor&)>& fn) override;
  core::Result<std::vector<CollectedDescriptor>> CollectUnlinkedDescriptors(int64_t now_ms, int64_t ttl_ms) override;
  core::Result<bool> DescriptorExists(std::string_view descriptor_id) override;

  // persons (pg_store_persons.cpp)
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

  // lists, linker (pg_store_lists.cpp)
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

  // handlers, pipelines (pg_store_handlers.cpp, pg_store_persons.cpp)
  core::Result<std::optional<Handler>> GetHandler(std::string_view account_id, HandlerType type) override;
  core::Result<std::optional<int64_t>> PatchHandlerPolicies(std::string_view account_id, HandlerType type,
                                                            std::string_view patch, int64_t now_ms) override;
  core::Status CreatePersonWithDescriptor(const Person& person, const Descriptor& descriptor,
                                          const std::optional<std::string>& list_id, int64_t now_ms) override;

  // change feed, snapshot, notices (pg_store_changes.cpp, pg_listener.cpp)
  core::Result<std::vector<Change>> ChangesSince(int64_t after_seq, int limit) override;
  core::Result<int64_t> LastChangeSeq() override;
  core::Status PruneChanges(int64_t up_to_seq) override;
  core::Result<int64_t> PrunedChangeSeq() override;
  core::Result<int64_t> Snapshot(const std::function<bool(const Descriptor&)>& on_descriptor,
                                 const PersonListMemberFn& on_person_list_member) override;
  core::Result<std::unique_ptr<ChangeListener>> ListenForChanges(std::function<void()> wake) override;

  // --- shared by the source files ----------------------------------------------------------

  // Runs fn(conn) in a write transaction holding the cluster-wide write lock and commits if
  // fn succeeded; on any failure the transaction is rolled back (Tx's destructor), so writes
  // are all-or-nothing.
  template <class Fn>
  auto Write(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    using R = decltype(fn(std::declval<Connection&>()));
    return WriteIf(std::nullopt, std::forward<Fn>(fn), []() -> R { return core::InternalError("unreachable"); });
  }

  // Write, but first tries the advisory key try_key (pg_try_advisory_xact_lock, released with
  // the transaction) BEFORE queueing for the write lock; when another session holds it, fn is
  // not run and busy() is returned.
  template <class Fn, class Busy>
  auto WriteIf(std::optional<int64_t> try_key, Fn&& fn, Busy&& busy) -> decltype(fn(std::declval<Connection&>())) {
    std::lock_guard write_lock(write_mu_);  // before the connection: see the file comment
    auto conn = pool_.Acquire();
    auto tx = Tx::Begin(*conn, Tx::Mode::Write);
    if (!tx) return std::move(tx).error();
    if (try_key) {
      auto got = Q(*conn, "SELECT pg_try_advisory_xact_lock($1)", "try lock", *try_key);
      if (!got) return std::move(got).error();
      if (!got->Bool(0, 0)) return busy();
    }
    if (auto lk = Q(*conn, "SELECT pg_advisory_xact_lock($1)", "write lock", kWriteLockKey); !lk)
      return std::move(lk).error();
    auto result = fn(*conn);
    if (!result) return result;
    if (conn->fed_changes)
      if (auto n = conn->ExecScript(std::string("NOTIFY ") + kNotifyChannel, "notify"); !n) return std::move(n).error();
    if (auto c = tx->Commit(); !c) return std::move(c).error();
    return result;
  }

  // Runs fn(conn) in one REPEATABLE READ read-only transaction (one snapshot).
  template <class Fn>
  auto Read(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    auto conn = pool_.Acquire();
    auto tx = Tx::Begin(*conn, Tx::Mode::Read);
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
  std::string url_;  // for the listener's own connection
  std::mutex write_mu_;
};

// --- row readers and helpers shared across families -----------------------------------------

// Columns matching ReadPerson, with its descriptors (link order) and lists (link order).
#define FP_PG_PERSON_COLUMNS                                                                            \
  "p.id, p.account_id, p.user_data, p.external_id, p.create_time_ms, p.last_update_ms,"               \
  " (SELECT string_agg(x.id, ' ' ORDER BY x.person_link_seq) FROM descriptors x WHERE x.person_id = p.id)," \
  " (SELECT string_agg(m.list_id, ' ' ORDER BY m.seq) FROM list_persons m WHERE m.person_id = p.id)"
Person ReadPerson(const PgRows& rows, int i);

// Columns matching ReadDescriptor, with its lists (link order); with values append
// ", d.values_f32le".
#define FP_PG_DESCRIPTOR_COLUMNS                                                               \
  "d.id, d.account_id, d.version, d.person_id, d.has_portrait, d.create_time_ms, d.last_update_ms," \
  " (SELECT string_agg(m.list_id, ' ' ORDER BY m.seq) FROM list_descriptors m WHERE m.descriptor_id = d.id)"
Descriptor ReadDescriptor(const PgRows& rows, int i, bool with_values);

// Streams every descriptor (values, person_id and lists filled) in creation order to fn,
// through a cursor inside the caller's read transaction. *stopped is set when fn returned false.
core::Status StreamDescriptors(Connection& conn, const std::function<bool(const Descriptor&)>& fn, bool* stopped);


// Appends one change-feed row inside the caller's write transaction, taking the next seq
// from change_counter (migration 3), and marks the connection so that the commit notifies.
core::Status AppendChange(Connection& conn, std::string_view account_id, ChangeKind kind,
                          std::string_view descriptor_id, std::string_view person_id, std::string_view list_id);

// Steps inside the caller's write transaction, shared by the one-object methods and the
// one-request pipelines (the same split as the SQLite backend):
//   InsertDescriptor  CreateDescriptors for one descriptor (DescriptorAdded);
//   InsertPerson      CreatePerson;
//   AttachDescriptor  attaches an unlinked descriptor to a person (both the account's)
//                     (DescriptorPersonSet);
//   LinkListMember    attaches/detaches one member known to be the account's (no-op when
//                     already so) (ListMemberAdded/Removed);
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

}  // namespace store::pg
