#pragma once
// The store interface: everything faceport persists, behind one abstract class so that the
// SQLite (embedded default) and PostgreSQL backends share one contract test suite
// (tests/store/). No backend type (sqlite3*, PGconn*) appears here.
//
// Contract for every method:
//  - thread-safe: may be called concurrently from any worker thread;
//  - a write is durable once the call returns successfully (the transaction is committed
//    with synchronous=FULL / fsync), and is all-or-nothing;
//  - tenancy: every method that takes account_id only sees rows of that account;
//  - failures of the database itself come back as Errc::Internal with a log_detail.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace store {

struct Account {
  std::string id;                 // uuid4
  std::string organization_name;
  std::string email;              // stored lower-cased
  std::string password_hash;      // argon2id encoded string (libsodium crypto_pwhash_str)
  bool suspended = false;
  int64_t create_time_ms = 0;
};

struct Token {
  std::string id;                 // uuid4; also the secret sent in X-Auth-Token
  std::string account_id;
  std::string token_data;         // arbitrary user string <= 128 chars
  int64_t create_time_ms = 0;
};

struct PageRequest {
  int64_t page = 1;               // >= 1
  int64_t page_size = 10;         // 1..1000
};

template <class T>
struct PageOf {
  std::vector<T> items;           // ordered by creation time, oldest first (ties in insertion order)
  int64_t count = 0;              // total matching rows, not the page length
};

enum class ListType { Persons, Descriptors };

// A face descriptor owned by an account. `values` are the L2-normalised floats of the
// descriptor model `version`; stored as little-endian float32.
struct Descriptor {
  std::string id;                         // uuid4
  std::string account_id;
  uint32_t version = 0;
  std::vector<float> values;
  std::optional<std::string> person_id;   // at most one person
  bool has_portrait = false;              // false for uploaded descriptors
  int64_t create_time_ms = 0;
  int64_t last_update_ms = 0;             // any change of person or lists
  // Filled on reads: ids of the descriptors lists it belongs to, oldest link first.
  std::vector<std::string> lists;
};

struct Person {
  std::string id;
  std::string account_id;
  std::string user_data;                  // <= 128 characters, "" when absent
  std::optional<std::string> external_id; // <= 36 characters
  int64_t create_time_ms = 0;
  int64_t last_update_ms = 0;
  // Filled on reads, oldest link first.
  std::vector<std::string> descriptors;
  std::vector<std::string> lists;
};

struct List {
  std::string id;
  std::string account_id;
  ListType type = ListType::Persons;
  std::string list_data;                  // <= 128 characters
  int64_t create_time_ms = 0;
  int64_t count = 0;                      // members, filled on reads
};

struct PersonFilter {
  std::optional<std::string> user_data_substring;  // case-sensitive substring of user_data
  std::optional<std::string> external_id;          // exact
};

enum class LinkAction { Attach, Detach };

// A descriptor removed by the collector (so that portraits and indexes can follow).
struct CollectedDescriptor {
  std::string account_id;
  std::string id;
  bool has_portrait = false;
};

// --- handlers (API.md §4 H) ----------------------------------------------------------------
//
// Every account has exactly three handlers, one per type, created with the account
// (CreateAccount) or, for accounts that existed before handlers did, by the schema migration.
enum class HandlerType { Extractor, Verify, Identify };

// Stable lower-case name of a type, as the API and the backends spell it.
inline std::string_view HandlerTypeName(HandlerType type) {
  switch (type) {
    case HandlerType::Extractor: return "extractor";
    case HandlerType::Verify: return "verify";
    case HandlerType::Identify: return "identify";
  }
  return "unknown";
}

struct Handler {
  std::string id;                 // uuid4
  std::string account_id;
  HandlerType type = HandlerType::Extractor;
  // A JSON object (text) holding the policy keys ever PATCHed, with their last values. The
  // store treats it as an opaque JSON object and only merges patches into it (see
  // PatchHandlerPolicies); which keys exist and their defaults belong to the API layer.
  std::string policies = "{}";
  int64_t version = 1;            // 1 at creation, +1 per PatchHandlerPolicies
  int64_t create_time_ms = 0;
  int64_t last_update_ms = 0;
};

// --- the change feed ----------------------------------------------------------------------
//
// Every write transaction that changes what matching sees appends rows to the change feed in
// the SAME transaction, so a row exists exactly when its change is committed. Each row gets
// a sequence number (seq) assigned in commit order:
//  - seq values are consecutive integers starting at 1: no gaps, never reused (not even after
//    PruneChanges, nor across restarts);
//  - a reader that sees seq N sees every row < N (rows become visible in seq order), so
//    "apply everything after the last seq applied" never skips a row;
//  - within one transaction rows are in the order listed below for each method.
// (SQLite: AUTOINCREMENT inside the serialised BEGIN IMMEDIATE write transaction is commit
// ordered and gap-free since a rollback also rolls back sqlite_sequence. PostgreSQL: a
// SEQUENCE is neither (nextval is not transactional, and transactions commit in another order
// than they drew numbers), so that backend must assign seq under a lock held until commit,
// e.g. `UPDATE change_counter SET seq = seq + n RETURNING seq` on a single row, or
// pg_advisory_xact_lock before reading max(seq).)
//
// What each write appends (every id is of the calling account; "" = none):
//  - CreateDescriptors: DescriptorAdded {descriptor_id} for each descriptor, in the given order.
//  - LinkPersonDescriptor: a real attach appends DescriptorPersonSet {descriptor_id,
//    person_id = the person}; a real detach DescriptorPersonSet {descriptor_id, person_id = ""}.
//    No-ops and failures append nothing.
//  - LinkList: for each id in the given order whose membership really changed,
//    ListMemberAdded / ListMemberRemoved {list_id, descriptor_id (descriptors list) or
//    person_id (persons list)}. Already-members on attach, non-members on detach, duplicates
//    and failed calls append nothing.
//  - DeletePerson: DescriptorPersonSet {descriptor_id, person_id = ""} for each of its
//    descriptors (in its descriptors' link order), then ListMemberRemoved {list_id, person_id}
//    for each list it was in (oldest link first), then PersonRemoved {person_id}. Nothing when
//    not found.
//  - DeleteList, and DeleteLists for each list it really deletes (in the given order):
//    ListMemberRemoved {list_id, descriptor_id or person_id} for each member (link order), then
//    ListRemoved {list_id}. Unknown/foreign ids append nothing.
//  - CollectUnlinkedDescriptors: DescriptorRemoved {descriptor_id} for each descriptor it
//    deletes (such a descriptor has no person and no list, so nothing else is needed).
//  - CreatePersonWithDescriptor: DescriptorAdded {descriptor_id}, DescriptorPersonSet
//    {descriptor_id, person_id}, then (with a list) ListMemberAdded {list_id, person_id}.
//  - Everything else appends nothing: accounts, tokens, handlers, CreatePerson, UpdatePerson,
//    CreateList, UpdateListData (a person or list without links gives matching no candidate;
//    whether a list exists, and its type, is read from the store, not from the feed).
//    Deleting an account (outside this interface) is not in the feed.
//
// The follower contract: let a follower's state be, per account, the set of descriptors
// (id, values) with each one's person and descriptors-list memberships, and the persons-list
// memberships. A follower that loads Snapshot() (which returns seq S) and then applies
// ChangesSince(S), ChangesSince(last applied), ... in seq order, as follows, is in exactly
// the store's state as of the last seq it applied:
//    DescriptorAdded      add the descriptor (unlinked) with its values;
//    DescriptorRemoved    remove the descriptor;
//    DescriptorPersonSet  set the descriptor's person ("" = none);
//    ListMemberAdded      add descriptor_id or person_id (whichever is set) to list_id;
//    ListMemberRemoved    remove it from list_id;
//    PersonRemoved        forget the person (its links were removed by the rows before);
//    ListRemoved          forget the list (its members were removed by the rows before).
// The feed is transactional: a follower that stops between two rows of one transaction
// (e.g. a `limit` cut) is in a state the store never had, which is harmless for an index
// that keeps polling (and the rows of one transaction are contiguous in seq).
enum class ChangeKind {
  DescriptorAdded,      // descriptor_id (+ version and values, see Change)
  DescriptorRemoved,    // descriptor_id
  DescriptorPersonSet,  // descriptor_id, person_id = the new person or "" when detached
  ListMemberAdded,      // list_id + (descriptor_id or person_id)
  ListMemberRemoved,    // list_id + (descriptor_id or person_id)
  PersonRemoved,        // person_id
  ListRemoved,          // list_id
};

// Stable lower-case name of a kind, as the backends store it.
inline std::string_view ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::DescriptorAdded: return "descriptor_added";
    case ChangeKind::DescriptorRemoved: return "descriptor_removed";
    case ChangeKind::DescriptorPersonSet: return "descriptor_person_set";
    case ChangeKind::ListMemberAdded: return "list_member_added";
    case ChangeKind::ListMemberRemoved: return "list_member_removed";
    case ChangeKind::PersonRemoved: return "person_removed";
    case ChangeKind::ListRemoved: return "list_removed";
  }
  return "unknown";
}

struct Change {
  int64_t seq = 0;
  std::string account_id;
  ChangeKind kind = ChangeKind::DescriptorAdded;
  std::string descriptor_id;  // "" when not part of this kind
  std::string person_id;      // "" when not part of this kind (or DescriptorPersonSet: detached)
  std::string list_id;        // "" when not part of this kind
  // DescriptorAdded only: the descriptor's model version and values (they never change), so
  // the follower need not read them back. nullopt when the descriptor no longer exists at
  // the time ChangesSince runs: a DescriptorRemoved for it comes later in the feed.
  uint32_t version = 0;
  std::optional<std::vector<float>> values;
};

// Called for each persons-list membership by Snapshot (list_id holds person_id).
using PersonListMemberFn =
    std::function<bool(const std::string& account_id, const std::string& list_id, const std::string& person_id)>;

// A running change-notice subscription (Store::ListenForChanges); destroying it stops the
// notices (and joins the store's listening thread).
class ChangeListener {
 public:
  virtual ~ChangeListener() = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // Cheap round trip to the database (health check).
  virtual core::Status Ping() = 0;

  // --- accounts -------------------------------------------------------------------------
  // Creates the account and its first token in one transaction. Errc::EmailExists when the
  // (lower-cased) email is taken. first_token.account_id must be account.id (or empty);
  // otherwise Errc::Internal. The same transaction creates the account's three handlers
  // (fresh uuid4 ids, policies "{}", version 1, create/last-update time = the account's
  // create_time_ms). On any failure nothing is written.
  virtual core::Status CreateAccount(const Account& account, const Token& first_token) = 0;
  virtual core::Result<std::optional<Account>> FindAccountByEmail(std::string_view email_lower) = 0;
  virtual core::Result<std::optional<Account>> FindAccountById(std::string_view account_id) = 0;
  // Returns false when no account has this email.
  virtual core::Result<bool> SetAccountSuspended(std::string_view email_lower, bool suspended) = 0;

  // --- tokens ---------------------------------------------------------------------------
  // The account owning token_id (any account), for X-Auth-Token authentication.
  virtual core::Result<std::optional<Account>> FindTokenOwner(std::string_view token_id) = 0;
  virtual core::Status CreateToken(const Token& token) = 0;
  // One page (ordered as PageOf says) plus the account's total token count. A page past the
  // end, including absurdly large page numbers, has no items but the true count.
  virtual core::Result<PageOf<Token>> ListTokens(std::string_view account_id, PageRequest page) = 0;
  virtual core::Result<std::optional<Token>> GetToken(std::string_view account_id, std::string_view token_id) = 0;
  // false when the account has no such token.
  virtual core::Result<bool> UpdateTokenData(std::string_view account_id, std::string_view token_id,
                                             std::string_view token_data) = 0;
  virtual core::Result<bool> DeleteToken(std::string_view account_id, std::string_view token_id) = 0;
  // Deletes those of token_ids that the account owns, in one transaction; other ids are ignored.
  virtual core::Status DeleteTokens(std::string_view account_id, const std::vector<std::string>& token_ids) = 0;

  // --- descriptors ----------------------------------------------------------------------
  // Inserts all of them in one transaction (the faces of one request: all or none).
  // A new descriptor is unlinked: person_id must be nullopt (Errc::Internal otherwise; link
  // with LinkPersonDescriptor), `lists` is ignored. Its lifetime clock starts at
  // create_time_ms; last_update_ms 0 means create_time_ms.
  virtual core::Status CreateDescriptors(const std::vector<Descriptor>& descriptors) = 0;
  // With `values`.
  virtual core::Result<std::optional<Descriptor>> GetDescriptor(std::string_view account_id,
                                                                std::string_view descriptor_id) = 0;
  // Without `values` (empty) unless with_values.
  virtual core::Result<PageOf<Descriptor>> ListDescriptors(std::string_view account_id, PageRequest page,
                                                           bool with_values = false) = 0;
  // Every descriptor of every account with values (start-up load of the matching index),
  // streamed in creation order, person_id and lists filled; return false from fn to stop.
  // fn runs inside the store's read transaction on one of its connections: it must not call
  // back into the store.
  virtual core::Status ForEachDescriptor(const std::function<bool(const Descriptor&)>& fn) = 0;

  // --- persons --------------------------------------------------------------------------
  // `descriptors` and `lists` are ignored (links are made by the link methods);
  // last_update_ms 0 means create_time_ms.
  virtual core::Status CreatePerson(const Person& person) = 0;
  virtual core::Result<std::optional<Person>> GetPerson(std::string_view account_id, std::string_view person_id) = 0;
  virtual core::Result<PageOf<Person>> ListPersons(std::string_view account_id, const PersonFilter& filter,
                                                   PageRequest page) = 0;
  // Only the given fields change (external_id: nullopt = unchanged, optional-of-nullopt never
  // used: clearing is not part of the API). false when the account has no such person.
  // With neither field given nothing changes (last_update_ms neither); the result still says
  // whether the person exists.
  virtual core::Result<bool> UpdatePerson(std::string_view account_id, std::string_view person_id,
                                          const std::optional<std::string>& user_data,
                                          const std::optional<std::string>& external_id, int64_t now_ms) = 0;
  // Deletes the person and its list memberships; its descriptors stay, unlinked from it (their
  // lifetime clock restarts, API.md §6). false when not found.
  virtual core::Result<bool> DeletePerson(std::string_view account_id, std::string_view person_id, int64_t now_ms) = 0;
  // Attach: Errc::PersonNotFound, Errc::DescriptorNotFoundRef {id}, Errc::DescriptorAlreadyAttached
  // (it belongs to another person); attaching to the same person again is a no-op.
  // Detach: PersonNotFound, DescriptorNotFoundRef; detaching a non-member is a no-op.
  // The person is checked first. A real change sets last_update_ms of both the person and the
  // descriptor to now_ms (a detach also restarts the descriptor's lifetime clock); a no-op
  // changes nothing.
  virtual core::Status LinkPersonDescriptor(std::string_view account_id, std::string_view person_id,
                                            std::string_view descriptor_id, LinkAction action, int64_t now_ms) = 0;

  // --- lists ----------------------------------------------------------------------------
  virtual core::Status CreateList(const List& list) = 0;
  virtual core::Result<std::optional<List>> GetList(std::string_view account_id, std::string_view list_id) = 0;
  // Whether the account has the list, and its type, without GetList's member count (which reads
  // every membership row: tens of milliseconds for a million members). For matching requests.
  virtual core::Result<std::optional<ListType>> GetListType(std::string_view account_id,
                                                            std::string_view list_id) = 0;
  // One page of the account's lists of one type (with member counts), count = lists of that type.
  virtual core::Result<PageOf<List>> ListLists(std::string_view account_id, ListType type, PageRequest page) = 0;
  // The members of a list, one page in the members' creation order (as PageOf says; not in
  // link order), count = members. Errc::ListNotFound when the account has no such list,
  // Errc::WrongListType {the list's type} when it holds the other kind of member.
  // Descriptors come without `values`.
  virtual core::Result<PageOf<Person>> ListPersonsInList(std::string_view account_id, std::string_view list_id,
                                                         PageRequest page) = 0;
  virtual core::Result<PageOf<Descriptor>> ListDescriptorsInList(std::string_view account_id,
                                                                 std::string_view list_id, PageRequest page) = 0;
  virtual core::Result<bool> UpdateListData(std::string_view account_id, std::string_view list_id,
                                            std::string_view list_data) = 0;
  // Members are unlinked (descriptors' lifetime clock restarts); false when not found.
  virtual core::Result<bool> DeleteList(std::string_view account_id, std::string_view list_id, int64_t now_ms) = 0;
  // Deletes those of list_ids that the account owns, in one transaction; others are ignored.
  virtual core::Status DeleteLists(std::string_view account_id, const std::vector<std::string>& list_ids,
                                   int64_t now_ms) = 0;
  // The linker: attach/detach persons (persons list) or descriptors (descriptors list), all or
  // nothing in one transaction. Errors: ListNotFoundRef; WrongListType {"persons"|"descriptors"}
  // (the type the list expects); ObjectsNotFound {"persons"|"descriptors"} when any id is not
  // the account's. Attaching a member again and detaching a non-member are no-ops. Checks in
  // that order; an empty ids is a successful no-op once the list checks pass. A real change
  // sets the member's last_update_ms to now_ms; removing a descriptor from a list restarts its
  // lifetime clock.
  virtual core::Status LinkList(std::string_view account_id, std::string_view list_id, ListType member_type,
                                LinkAction action, const std::vector<std::string>& ids, int64_t now_ms) = 0;

  // --- handlers ---------------------------------------------------------------------------
  // The account's handler of that type; nullopt when the account does not exist.
  virtual core::Result<std::optional<Handler>> GetHandler(std::string_view account_id, HandlerType type) = 0;
  // Atomically (one statement, no read-modify-write in the caller): sets every top-level key
  // of `patch` (a JSON object text with no null values) in the handler's policies, keeping the
  // other keys (a JSON merge patch, RFC 7396), increments version by one and sets
  // last_update_ms = now_ms. Returns the new version; nullopt when the account has no such
  // handler. Concurrent calls serialise: N successful calls raise the version by exactly N and
  // every key of every patch is applied (the last writer wins per key). A patch that is not a
  // JSON object is Errc::Internal and changes nothing.
  virtual core::Result<std::optional<int64_t>> PatchHandlerPolicies(std::string_view account_id, HandlerType type,
                                                                    std::string_view patch, int64_t now_ms) = 0;

  // --- one-request pipelines (the extractor handler) --------------------------------------
  // All or nothing, in ONE transaction, in this order: inserts `descriptor` (as
  // CreateDescriptors does: unlinked, person_id must be nullopt), inserts `person` (as
  // CreatePerson), attaches the descriptor to the person (as LinkPersonDescriptor), and, when
  // list_id is set, attaches the person to that list (as LinkList with one person).
  // Both objects must belong to the same account (Errc::Internal otherwise). list_id errors,
  // checked last, after the inserts: Errc::ListNotFoundRef (unknown or another account's
  // list), Errc::WrongListType {"persons"} (a descriptors list); any failure leaves nothing
  // behind (no rows, no change-feed rows). Change feed: DescriptorAdded, DescriptorPersonSet
  // {descriptor, person}, then ListMemberAdded {list, person} when list_id is set.
  virtual core::Status CreatePersonWithDescriptor(const Person& person, const Descriptor& descriptor,
                                                  const std::optional<std::string>& list_id, int64_t now_ms) = 0;

  // --- descriptor lifetime (API.md §6) ---------------------------------------------------
  // Deletes, in one transaction, every descriptor with no person and no list whose last
  // unlink (or creation) is older than now_ms - ttl_ms (strictly: last_unlink < now - ttl),
  // and returns them. A descriptor linked at the moment the transaction commits is never
  // deleted. ttl_ms < 0 is Errc::Internal. Portrait files are the caller's to remove.
  virtual core::Result<std::vector<CollectedDescriptor>> CollectUnlinkedDescriptors(int64_t now_ms, int64_t ttl_ms) = 0;
  // Whether a descriptor row exists (any account): start-up orphan removal of portrait files.
  virtual core::Result<bool> DescriptorExists(std::string_view descriptor_id) = 0;

  // --- change feed (see ChangeKind above) ------------------------------------------------
  // The rows with seq > after_seq, ascending, at most `limit` (>= 1; otherwise
  // Errc::Internal) of them, across all accounts; empty when there are none yet (a negative
  // after_seq counts as 0). after_seq below PrunedChangeSeq() is Errc::Internal ("change feed pruned"): rows the caller never
  // saw are gone and it must reload from Snapshot (checked in the same read transaction as
  // the rows are read, so no prune can slip in between).
  virtual core::Result<std::vector<Change>> ChangesSince(int64_t after_seq, int limit) = 0;
  // The seq of the last committed change (0 before the first); unaffected by pruning.
  virtual core::Result<int64_t> LastChangeSeq() = 0;
  // Housekeeping: deletes the rows with seq <= up_to_seq (clamped to LastChangeSeq()) and
  // remembers that they are gone (PrunedChangeSeq). Only prune what every follower has
  // applied, or accept that a follower further behind reloads from a snapshot.
  virtual core::Status PruneChanges(int64_t up_to_seq) = 0;
  // The highest seq pruned so far (0 when nothing was). Never decreases.
  virtual core::Result<int64_t> PrunedChangeSeq() = 0;
  // The follower's start-up load, in ONE read transaction (one consistent state): every
  // descriptor of every account as ForEachDescriptor gives them (values, person_id and its
  // descriptors lists in `lists`, creation order), then every persons-list membership
  // (account_id, list_id, person_id; per person oldest link first). Returns the seq of the
  // last change included in that state: applying ChangesSince(seq) onwards brings the
  // follower up to date (the follower contract above). Returning false from a callback stops
  // the load early (the result is then still the snapshot's seq, but the load is partial).
  // The callbacks run inside the read transaction on one of the store's connections: they
  // must not call back into the store. Writers are not blocked meanwhile (except on
  // ":memory:", which has a single connection).
  virtual core::Result<int64_t> Snapshot(const std::function<bool(const Descriptor&)>& on_descriptor,
                                         const PersonListMemberFn& on_person_list_member) = 0;

  // --- change notices (several nodes on one database) -------------------------------------
  // Calls wake() soon after ANY process on this database commits change-feed rows, from a
  // thread of the store's, so that a follower on another node need not wait for its next
  // poll. Best effort: a notice can be lost (e.g. while reconnecting), so a follower must keep
  // polling ChangesSince as well; wake() must be cheap and must not call back into the store.
  // nullptr when the backend has no cross-process notices (the default; SQLite: followers
  // poll).
  virtual core::Result<std::unique_ptr<ChangeListener>> ListenForChanges(std::function<void()> wake) {
    (void)wake;
    return std::unique_ptr<ChangeListener>();
  }
};

}  // namespace store
