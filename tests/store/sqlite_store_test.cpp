// The SQLite backend: the contract suite on a real file and on ":memory:", plus checks that
// only make sense for SQLite (pragmas, the migrations table, several stores on one file),
// which inspect the database through a raw sqlite3 connection.
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/uuid.hpp"
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

}  // namespace
}  // namespace store_testing
