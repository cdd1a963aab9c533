#include "store/sqlite_conn.hpp"

#include <cctype>
#include <string>
#include <utility>

#include "core/log.hpp"

namespace store::sqlite {

// --- Stmt -------------------------------------------------------------------------------

Stmt::Stmt(Stmt&& other) noexcept
    : conn_(other.conn_), stmt_(other.stmt_), leased_(other.leased_), what_(other.what_) {
  other.stmt_ = nullptr;
  other.leased_ = nullptr;
}

Stmt::~Stmt() {
  if (!stmt_) return;
  // reset() re-reports the last step error; it was already turned into a Result, so ignore.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *leased_ = false;
}

core::Error Stmt::Fail(std::string_view step) const {
  std::string what(what_);
  what += " (";
  what += step;
  what += ")";
  return conn_->Error(what);
}

core::Status Stmt::BindText(int index, std::string_view value) {
  // An empty string_view may carry data() == nullptr, which sqlite3_bind_text would bind as
  // SQL NULL; bind a real empty string instead so "" round-trips as "".
  const char* data = value.data() ? value.data() : "";
  if (sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK)
    return Fail("bind");
  return {};
}

core::Status Stmt::BindInt64(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) return Fail("bind");
  return {};
}

core::Status Stmt::BindBlob(int index, std::string_view bytes) {
  // A null pointer would bind SQL NULL; a zero-length blob must stay a blob.
  const int rc = bytes.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                               : sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) return Fail("bind");
  return {};
}

core::Status Stmt::BindNull(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) return Fail("bind");
  return {};
}

core::Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail("step");
}

core::Status Stmt::Run() {
  for (;;) {
    auto row = Step();
    if (!row) return std::move(row).error();
    if (!*row) return {};
  }
}

std::string Stmt::ColumnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  if (!text) return {};
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, col));
}

int64_t Stmt::ColumnInt64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string_view Stmt::ColumnBlob(int col) const {
  // column_blob first, then column_bytes: the documented order that avoids a conversion
  // invalidating the pointer.
  const void* data = sqlite3_column_blob(stmt_, col);
  if (!data) return {};
  return std::string_view(static_cast<const char*>(data), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

bool Stmt::ColumnIsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

// --- Connection -------------------------------------------------------------------------

core::Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, int flags,
                                                           int busy_timeout_ms) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    // sqlite3_open_v2 usually allocates a handle even on failure, carrying the message.
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return core::InternalError("sqlite open '" + path + "': " + msg);
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_extended_result_codes(db, 1);
  if (sqlite3_busy_timeout(db, busy_timeout_ms) != SQLITE_OK) return conn->Error("sqlite busy_timeout");
  // foreign_keys is off by default and per connection; without it ON DELETE CASCADE and the
  // REFERENCES checks silently do nothing. synchronous=FULL fsyncs the WAL on every commit,
  // which is what makes "durable once the call returns" true across power loss.
  if (auto st = conn->Exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;", "sqlite pragmas"); !st)
    return std::move(st).error();
  // Verify foreign keys took effect (a build with SQLITE_OMIT_FOREIGN_KEY returns no row).
  {
    auto fk = conn->Prepare("PRAGMA foreign_keys", "sqlite check foreign_keys");
    if (!fk) return std::move(fk).error();
    auto row = fk->Step();
    if (!row) return std::move(row).error();
    if (!*row || fk->ColumnInt64(0) != 1)
      return core::InternalError("sqlite check foreign_keys: foreign key support is unavailable");
  }
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close(db_);
}

core::Error Connection::Error(std::string_view what) const {
  std::string detail(what);
  detail += ": ";
  detail += sqlite3_errmsg(db_);
  return core::InternalError(std::move(detail));
}

core::Result<Stmt> Connection::Prepare(std::string_view sql, std::string_view what) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    // PERSISTENT: these live for the connection's lifetime, so let SQLite allocate them
    // outside its lookaside pool.
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                           nullptr) != SQLITE_OK) {
      return Error(std::string(what) + " (prepare)");
    }
    it = cache_.emplace(std::string(sql), Cached{stmt, false}).first;
  }
  if (it->second.leased)
    return core::InternalError(std::string(what) + ": statement already in use on this connection");
  it->second.leased = true;
  return Stmt(this, it->second.stmt, &it->second.leased, what);
}

core::Status Connection::Exec(const std::string& sql, std::string_view what) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string detail(what);
    detail += ": ";
    detail += msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    return core::InternalError(std::move(detail));
  }
  return {};
}

core::Status Connection::EnableWal() {
  auto st = Prepare("PRAGMA journal_mode=WAL", "sqlite journal_mode=WAL");
  if (!st) return std::move(st).error();
  auto row = st->Step();
  if (!row) return std::move(row).error();
  std::string mode = *row ? st->ColumnText(0) : std::string();
  for (auto& c : mode) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // SQLite answers with the mode actually in force; it stays e.g. "delete" on filesystems
  // without shared memory, where the concurrency this store relies on is not available.
  if (mode != "wal") return core::InternalError("sqlite journal_mode=WAL: database stayed in mode '" + mode + "'");
  return {};
}

// --- Tx ---------------------------------------------------------------------------------

core::Result<Tx> Tx::Begin(Connection& conn, Mode mode) {
  // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
  // writes can fail with SQLITE_BUSY at the write without the busy handler helping.
  auto st = mode == Mode::Immediate ? conn.Prepare("BEGIN IMMEDIATE", "sqlite begin immediate")
                                    : conn.Prepare("BEGIN DEFERRED", "sqlite begin");
  if (!st) return std::move(st).error();
  if (auto run = st->Run(); !run) return std::move(run).error();
  return Tx(&conn);
}

core::Status Tx::Commit() {
  {
    auto st = conn_->Prepare("COMMIT", "sqlite commit");
    if (!st) return std::move(st).error();
    // On failure (e.g. SQLITE_BUSY) the transaction may still be open; the destructor
    // rolls it back.
    if (auto run = st->Run(); !run) return std::move(run).error();
  }
  conn_ = nullptr;
  return {};
}

Tx::~Tx() {
  if (!conn_) return;
  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) make SQLite roll back by itself; a second
  // ROLLBACK would only fail with "no transaction is active".
  if (!conn_->InTransaction()) return;
  if (auto st = conn_->Exec("ROLLBACK", "sqlite rollback"); !st)
    core::Log(core::LogLevel::Error, "store_rollback_failed", {{"detail", st.error().log_detail}});
}

// --- Pool -------------------------------------------------------------------------------

Pool::Pool(std::vector<std::unique_ptr<Connection>> conns) : owned_(std::move(conns)) {
  for (auto& c : owned_) free_.push_back(c.get());
}

Pool::Lease Pool::Acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !free_.empty(); });
  Connection* conn = free_.back();
  free_.pop_back();
  return Lease(this, conn);
}

void Pool::Release(Connection* conn) {
  {
    std::lock_guard lock(mu_);
    free_.push_back(conn);
  }
  cv_.notify_one();
}

}  // namespace store::sqlite
