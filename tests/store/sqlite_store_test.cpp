// The SQLite backend: the contract suite on a real file and on ":memory:", plus checks that
// only make sense for SQLite (pragmas, the migrations table, several stores on one file),
// which inspect the database through a raw sqlite3 connection.
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/uuid.hpp"
#include "store/portraits.hpp"
#include "store/sqlite_migrations.hpp"
#include "store/sqlite_store.hpp"
#include "store_contract.hpp"

namespace store_testing {
namespace {

namespace fs = std::filesystem;

// A mkdtemp directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "faceport_store_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class SqliteFileEnv : public BackendEnv {
 public:
  core::Result<std::unique_ptr<store::Store>> Open() override { return store::OpenSqliteStore(options()); }
  bool persistent() const override { return true; }
  store::SqliteOptions options() const { return {(dir_.path() / "faceport.db").string(), 4, 5000}; }
  std::string db_path() const { return options().path; }

 private:
  TempDir dir_;
};

class SqliteMemoryEnv : public BackendEnv {
 public:
  core::Result<std::unique_ptr<store::Store>> Open() override { return store::OpenSqliteStore({":memory:", 4, 5000}); }
  bool persistent() const override { return false; }
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContract,
                         ::testing::Values(Backend{"file", [] { return std::make_unique<SqliteFileEnv>(); }},
                                           Backend{"memory", [] { return std::make_unique<SqliteMemoryEnv>(); }}),
                         BackendName);

// A raw read-only look at the database file, bypassing the store.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
      ADD_FAILURE() << "raw open: " << sqlite3_errmsg(db_);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  // First column of the first row as text ("" when there is no row).
  std::string Query(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    return out;
  }
  // The detail column of every row of EXPLAIN QUERY PLAN, one per line.
  std::string Plan(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    const std::string explain = "EXPLAIN QUERY PLAN " + sql;
    if (sqlite3_prepare_v2(db_, explain.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
      out += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
      out += "\n";
    }
    sqlite3_finalize(st);
    return out;
  }
  void Exec(const std::string& sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) ADD_FAILURE() << sql << ": " << msg;
    sqlite3_free(msg);
  }

 private:
  sqlite3* db_ = nullptr;
};

std::unique_ptr<store::Store> MustOpen(const store::SqliteOptions& options) {
  auto opened = store::OpenSqliteStore(options);
  EXPECT_TRUE(opened.ok()) << opened.error().log_detail;
  return opened.ok() ? std::move(opened).value() : nullptr;
}

store::Account AccountFor(const std::string& email) {
  return store::Account{core::NewUuid4(), "org", email, "hash", false, 1};
}

TEST(SqliteStore, MigrationsAreRecordedOnceAcrossReopens) {
  SqliteFileEnv env;
  for (int i = 0; i < 3; ++i) ASSERT_NE(MustOpen(env.options()), nullptr);
  RawDb raw(env.db_path());
  const auto known = std::to_string(store::sqlite::SqliteMigrations().size());
  EXPECT_EQ(raw.Query("SELECT count(*) FROM schema_migrations"), known);
  EXPECT_EQ(raw.Query("SELECT max(version) FROM schema_migrations"), known);
  EXPECT_EQ(raw.Query("SELECT min(version) FROM schema_migrations"), "1");
  EXPECT_EQ(raw.Query("SELECT count(*) FROM schema_migrations WHERE applied_at <= 0"), "0");
}

TEST(SqliteStore, FileDatabaseUsesWal) {
  SqliteFileEnv env;
  auto store = MustOpen(env.options());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawDb(env.db_path()).Query("PRAGMA journal_mode"), "wal");
}

TEST(SqliteStore, DeletingAnAccountCascadesToItsTokens) {
  SqliteFileEnv env;
  auto store = MustOpen(env.options());
  ASSERT_NE(store, nullptr);
  auto a = AccountFor("cascade@example.com");
  ASSERT_TRUE(store->CreateAccount(a, store::Token{core::NewUuid4(), a.id, "", 1}).ok());
  RawDb raw(env.db_path());
  raw.Exec("PRAGMA foreign_keys=ON");
  raw.Exec("DELETE FROM accounts WHERE email = 'cascade@example.com'");
  EXPECT_EQ(raw.Query("SELECT count(*) FROM tokens"), "0");
}

// Token lookups are cached per store (sqlite_auth_cache.hpp). Two stores on one file stand for
// two processes (the server and `faceport account suspend`, or two servers): a write through
// one must be seen by the other's very next lookup, with no waiting.
TEST(SqliteStore, CachedTokenLookupsSeeWritesMadeThroughAnotherStore) {
  SqliteFileEnv env;
  auto server = MustOpen(env.options());
  auto admin = MustOpen(env.options());
  ASSERT_NE(server, nullptr);
  ASSERT_NE(admin, nullptr);
  auto a = AccountFor("cache@example.com");
  const store::Token t{core::NewUuid4(), a.id, "first", 1};
  ASSERT_TRUE(server->CreateAccount(a, t).ok());

  for (int i = 0; i < 2; ++i) {  // the second round is served from the cache
    auto owner = server->FindTokenOwner(t.id);
    ASSERT_TRUE(owner.ok() && owner->has_value());
    EXPECT_FALSE((*owner)->suspended);
    auto token = server->GetToken(a.id, t.id);
    ASSERT_TRUE(token.ok() && token->has_value());
    EXPECT_EQ((*token)->token_data, "first");
  }
  auto other = server->GetToken(core::NewUuid4(), t.id);  // another account never gets it
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());

  ASSERT_TRUE(admin->SetAccountSuspended("cache@example.com", true).ok());
  auto owner = server->FindTokenOwner(t.id);
  ASSERT_TRUE(owner.ok() && owner->has_value());
  EXPECT_TRUE((*owner)->suspended);

  ASSERT_TRUE(admin->UpdateTokenData(a.id, t.id, "second").ok());
  auto token = server->GetToken(a.id, t.id);
  ASSERT_TRUE(token.ok() && token->has_value());
  EXPECT_EQ((*token)->token_data, "second");

  ASSERT_TRUE(admin->DeleteToken(a.id, t.id).ok());
  owner = server->FindTokenOwner(t.id);
  ASSERT_TRUE(owner.ok());
  EXPECT_FALSE(owner->has_value());
  token = server->GetToken(a.id, t.id);
  ASSERT_TRUE(token.ok());
  EXPECT_FALSE(token->has_value());
}

TEST(SqliteStore, NewerSchemaIsRefused) {
  SqliteFileEnv env;
  ASSERT_NE(MustOpen(env.options()), nullptr);
  RawDb(env.db_path()).Exec("INSERT INTO schema_migrations(version, applied_at) VALUES (999, 1)");
  auto opened = store::OpenSqliteStore(env.options());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, core::Errc::Internal);
  EXPECT_NE(opened.error().log_detail.find("newer"), std::string::npos) << opened.error().log_detail;
}

TEST(SqliteStore, BadOptionsAndPathsAreInternalErrors) {
  TempDir dir;
  const std::string missing = (dir.path() / "no" / "such" / "dir.db").string();
  auto opened = store::OpenSqliteStore({missing, 2, 100});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, core::Errc::Internal);
  EXPECT_NE(opened.error().log_detail.find("unable to open"), std::string::npos) << opened.error().log_detail;

  const std::string ok_path = (dir.path() / "x.db").string();
  EXPECT_FALSE(store::OpenSqliteStore({ok_path, 0, 100}).ok());
  EXPECT_FALSE(store::OpenSqliteStore({ok_path, 1, -1}).ok());
  EXPECT_FALSE(store::OpenSqliteStore({"", 1, 100}).ok());
}

TEST(SqliteStore, MemoryStoresAreIndependent) {
  auto one = MustOpen({":memory:", 4, 5000});
  auto two = MustOpen({":memory:", 4, 5000});
  ASSERT_TRUE(one && two);
  auto a = AccountFor("mem@example.com");
  ASSERT_TRUE(one->CreateAccount(a, store::Token{core::NewUuid4(), a.id, "", 1}).ok());
  EXPECT_TRUE(one->FindAccountByEmail("mem@example.com")->has_value());
  EXPECT_FALSE(two->FindAccountByEmail("mem@example.com")->has_value());
}

// Two Stores on one file behave like two processes: they share no mutex, so their writers
// meet on SQLite's own lock and must wait for each other (busy_timeout), not fail.
TEST(SqliteStore, TwoStoresOnOneFileWriteConcurrently) {
  SqliteFileEnv env;
  auto first = MustOpen(env.options());
  auto second = MustOpen(env.options());
  ASSERT_TRUE(first && second);
  auto a = AccountFor("shared@example.com");
  ASSERT_TRUE(first->CreateAccount(a, store::Token{core::NewUuid4(), a.id, "", 1}).ok());

  constexpr int kPerThread = 20;
  std::vector<std::string> errors;
  std::mutex errors_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    store::Store* target = (t % 2 == 0) ? first.get() : second.get();
    threads.emplace_back([&, target] {
      for (int i = 0; i < kPerThread; ++i) {
        auto st = target->CreateToken(store::Token{core::NewUuid4(), a.id, "x", 100 + i});
        if (!st) {
          std::lock_guard lock(errors_mu);
          errors.push_back(st.error().log_detail);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  auto page = second->ListTokens(a.id, store::PageRequest{1, 1});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->count, 1 + 4 * kPerThread);
}

store::Descriptor DescriptorFor(const std::string& account_id, std::vector<float> values) {
  store::Descriptor d;
  d.id = core::NewUuid4();
  d.account_id = account_id;
  d.version = 59;
  d.values = std::move(values);
  d.create_time_ms = 1;
  return d;
}

// The on-disk form the schema documents: little-endian float32, 4 bytes per value.
TEST(SqliteStore, DescriptorValuesAreLittleEndianFloat32) {
  SqliteFileEnv env;
  auto store = MustOpen(env.options());
  ASSERT_NE(store, nullptr);
  auto a = AccountFor("le@example.com");
  ASSERT_TRUE(store->CreateAccount(a, store::Token{core::NewUuid4(), a.id, "", 1}).ok());
  auto d = DescriptorFor(a.id, {1.0f, -2.0f, 0.5f});
  ASSERT_TRUE(store->CreateDescriptors({d}).ok());
  RawDb raw(env.db_path());
  EXPECT_EQ(raw.Query("SELECT hex(values_f32le) FROM descriptors"), "0000803F000000C00000003F");
  EXPECT_EQ(raw.Query("SELECT typeof(values_f32le) FROM descriptors"), "blob");
}

TEST(SqliteStore, DeletingAnAccountCascadesToPersonsDescriptorsAndLists) {
  SqliteFileEnv env;
  auto store = MustOpen(env.options());
  ASSERT_NE(store, nullptr);
  auto a = AccountFor("gone@example.com");
  auto b = AccountFor("stays@example.com");
  for (const auto& acc : {a, b}) {
    ASSERT_TRUE(store->CreateAccount(acc, store::Token{core::NewUuid4(), acc.id, "", 1}).ok());
    store::Person p{core::NewUuid4(), acc.id, "", std::nullopt, 1, 1, {}, {}};
    ASSERT_TRUE(store->CreatePerson(p).ok());
    auto d = DescriptorFor(acc.id, {1.0f});
    ASSERT_TRUE(store->CreateDescriptors({d}).ok());
    store::List pl{core::NewUuid4(), acc.id, store::ListType::Persons, "", 1, 0};
    store::List dl{core::NewUuid4(), acc.id, store::ListType::Descriptors, "", 1, 0};
    ASSERT_TRUE(store->CreateList(pl).ok());
    ASSERT_TRUE(store->CreateList(dl).ok());
    ASSERT_TRUE(store->LinkPersonDescriptor(acc.id, p.id, d.id, store::LinkAction::Attach, 2).ok());
    ASSERT_TRUE(store->LinkList(acc.id, pl.id, store::ListType::Persons, store::LinkAction::Attach, {p.id}, 2).ok());
    ASSERT_TRUE(
        store->LinkList(acc.id, dl.id, store::ListType::Descriptors, store::LinkAction::Attach, {d.id}, 2).ok());
  }
  RawDb raw(env.db_path());
  raw.Exec("PRAGMA foreign_keys=ON");
  raw.Exec("DELETE FROM accounts WHERE email = 'gone@example.com'");
  // What is left is exactly the other account's rows (it has two lists, one of each type).
  const std::vector<std::pair<std::string, std::string>> left = {
      {"persons", "1"}, {"descriptors", "1"}, {"lists", "2"}, {"list_persons", "1"}, {"list_descriptors", "1"}};
  for (const auto& [table, count] : left) {
    EXPECT_EQ(raw.Query("SELECT count(*) FROM " + table), count) << table;
    EXPECT_EQ(raw.Query("SELECT count(*) FROM " + table + " WHERE account_id = '" + b.id + "'"), count) << table;
  }
  EXPECT_EQ(raw.Query("PRAGMA foreign_key_check"), "");
}

// A database created by a binary that knew only migration 1 is upgraded in place.
TEST(SqliteStore, UpgradesAVersionOneDatabase) {
  SqliteFileEnv env;
  const auto a = AccountFor("old@example.com");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(env.db_path().c_str(), &db), SQLITE_OK);
    const std::string v1(store::sqlite::SqliteMigrations()[0]);
    const std::string sql = v1 +
                            "; CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY,"
                            " applied_at INTEGER NOT NULL); INSERT INTO schema_migrations VALUES (1, 1);"
                            " INSERT INTO accounts VALUES ('" +
                            a.id + "', 'org', 'old@example.com', 'hash', 0, 1);";
    char* msg = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg), SQLITE_OK) << msg;
    sqlite3_close(db);
  }
  auto store = MustOpen(env.options());
  ASSERT_NE(store, nullptr);
  auto found = store->FindAccountById(a.id);
  ASSERT_TRUE(found.ok() && found->has_value());
  store::Person p{core::NewUuid4(), a.id, "u", std::nullopt, 1, 1, {}, {}};
  EXPECT_TRUE(store->CreatePerson(p).ok());
  // Migration 4 gave the account that existed before it its three handlers (uuid4 ids,
  // default policies, version 1, the account's creation time), usable like new ones.
  std::set<std::string> handler_ids;
  for (auto t : {store::HandlerType::Extractor, store::HandlerType::Verify, store::HandlerType::Identify}) {
    auto h = store->GetHandler(a.id, t);
    ASSERT_TRUE(h.ok() && h->has_value()) << store::HandlerTypeName(t);
    EXPECT_TRUE(core::IsUuid4((*h)->id)) << (*h)->id;
    handler_ids.insert((*h)->id);
    EXPECT_EQ((*h)->policies, "{}");
    EXPECT_EQ((*h)->version, 1);
    EXPECT_EQ((*h)->create_time_ms, 1);
  }
  EXPECT_EQ(handler_ids.size(), 3u);
  auto patched = store->PatchHandlerPolicies(a.id, store::HandlerType::Verify, R"({"verify_threshold":0.9})", 2);
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ(*patched, std::optional<int64_t>(2));
  RawDb raw(env.db_path());
  EXPECT_EQ(raw.Query("SELECT max(version) FROM schema_migrations"),
            std::to_string(store::sqlite::SqliteMigrations().size()));
}

// The queries that must stay cheap as tables grow use their indexes (no full scans or sorts
// of the big tables). The SQL mirrors the store's; a change there should change this too.
TEST(SqliteStore, StorageQueriesUseTheirIndexes) {
  SqliteFileEnv env;
  ASSERT_NE(MustOpen(env.options()), nullptr);
  RawDb raw(env.db_path());
  raw.Exec("ANALYZE");
  const std::string gc = raw.Plan(
      "SELECT d.id FROM descriptors d WHERE d.person_id IS NULL AND d.last_unlink_ms < 5"
      " AND NOT EXISTS (SELECT 1 FROM list_descriptors m WHERE m.descriptor_id = d.id)");
  EXPECT_NE(gc.find("descriptors_unlinked"), std::string::npos) << gc;
  EXPECT_NE(gc.find("list_descriptors_descriptor"), std::string::npos) << gc;

  const std::string each = raw.Plan("SELECT d.id, d.values_f32le FROM descriptors d ORDER BY d.create_time_ms, d.rowid");
  EXPECT_NE(each.find("descriptors_time"), std::string::npos) << each;
  EXPECT_EQ(each.find("TEMP B-TREE"), std::string::npos) << each;

  const std::string page = raw.Plan(
      "SELECT d.id FROM descriptors d WHERE d.account_id = 'x' ORDER BY d.create_time_ms, d.rowid LIMIT 10");
  EXPECT_NE(page.find("descriptors_account_time"), std::string::npos) << page;
  EXPECT_EQ(page.find("TEMP B-TREE"), std::string::npos) << page;

  const std::string ext = raw.Plan(
      "SELECT p.id FROM persons p WHERE p.account_id = 'x' AND p.external_id = 'e'"
      " AND (NULL IS NULL OR instr(p.user_data, NULL) > 0) ORDER BY p.create_time_ms, p.rowid");
  EXPECT_NE(ext.find("persons_account_external"), std::string::npos) << ext;

  const std::string person_descriptors =
      raw.Plan("SELECT id FROM descriptors WHERE person_id = 'p' ORDER BY person_link_seq");
  EXPECT_NE(person_descriptors.find("descriptors_person"), std::string::npos) << person_descriptors;
  EXPECT_EQ(person_descriptors.find("TEMP B-TREE"), std::string::npos) << person_descriptors;

  const std::string person_lists = raw.Plan("SELECT list_id FROM list_persons WHERE person_id = 'p' ORDER BY seq");
  EXPECT_NE(person_lists.find("list_persons_person"), std::string::npos) << person_lists;
  EXPECT_EQ(person_lists.find("TEMP B-TREE"), std::string::npos) << person_lists;

  const std::string lists = raw.Plan(
      "SELECT l.id FROM lists l WHERE l.account_id = 'x' AND l.type = 'persons'"
      " ORDER BY l.create_time_ms, l.rowid LIMIT 10");
  EXPECT_NE(lists.find("lists_account_type_time"), std::string::npos) << lists;
  EXPECT_EQ(lists.find("TEMP B-TREE"), std::string::npos) << lists;

  // The change feed: a range of the primary key, and the snapshot's memberships in index order.
  const std::string feed = raw.Plan(
      "SELECT c.seq, d.values_f32le FROM changes c LEFT JOIN descriptors d"
      " ON c.kind = 'descriptor_added' AND d.id = c.descriptor_id AND d.account_id = c.account_id"
      " WHERE c.seq > 5 ORDER BY c.seq LIMIT 100");
  EXPECT_NE(feed.find("INTEGER PRIMARY KEY (rowid>?)"), std::string::npos) << feed;
  EXPECT_EQ(feed.find("TEMP B-TREE"), std::string::npos) << feed;
  EXPECT_EQ(feed.find("SCAN d"), std::string::npos) << feed;
  const std::string members = raw.Plan("SELECT account_id, list_id, person_id FROM list_persons ORDER BY person_id, seq");
  EXPECT_EQ(members.find("TEMP B-TREE"), std::string::npos) << members;
}

// Portrait orphan removal against the real store: files of a descriptor that was never
// committed (a crash between Put and the commit) go; files of committed ones stay.
TEST(SqliteStore, PortraitOrphansAreFilesWithoutADescriptorRow) {
  SqliteFileEnv env;
  auto store = MustOpen(env.options());
  ASSERT_NE(store, nullptr);
  TempDir dir;
  store::PortraitStore portraits((dir.path() / "portraits").string());
  ASSERT_TRUE(portraits.Open().ok());
  auto a = AccountFor("orphans@example.com");
  ASSERT_TRUE(store->CreateAccount(a, store::Token{core::NewUuid4(), a.id, "", 1}).ok());
  auto committed = DescriptorFor(a.id, {1.0f});
  auto crashed = DescriptorFor(a.id, {2.0f});
  ASSERT_TRUE(portraits.Put(committed.id, {{"", "a"}, {"_32", "b"}}).ok());
  ASSERT_TRUE(store->CreateDescriptors({committed}).ok());
  ASSERT_TRUE(portraits.Put(crashed.id, {{"", "c"}}).ok());  // no commit follows

  auto removed = portraits.RemoveOrphans([&](std::string_view id) { return store->DescriptorExists(id); });
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);
  EXPECT_TRUE(portraits.Get(committed.id, "_32")->has_value());
  EXPECT_FALSE(portraits.Get(crashed.id, "")->has_value());
}

}  // namespace
}  // namespace store_testing
