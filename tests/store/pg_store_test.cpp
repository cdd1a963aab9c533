// The PostgreSQL backend: the contract suite on a fresh database per case, plus what only
// several nodes on one database can show (two Store objects stand for two faceport nodes:
// each has its own connection pool, exactly as two processes would): concurrent migrations,
// a gap-free commit-ordered feed under writers on both, one collector at a time, a collector
// on one node never deleting what the other node links, change notices across nodes, and
// reconnecting after the server dropped the connections.
//
// Runs when FACEPORT_TEST_PG_URL names a server (scripts/test.sh starts a throwaway one);
// every case SKIPs, saying why, otherwise.
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/uuid.hpp"
#include "pg_testdb.hpp"
#include "store/pg_store.hpp"
#include "store_contract.hpp"

namespace store_testing {
namespace {

using store::Account;
using store::Descriptor;
using store::LinkAction;
using store::ListType;

class PgEnv : public BackendEnv {
 public:
  explicit PgEnv(std::string url) : url_(std::move(url)) {}
  core::Result<std::unique_ptr<store::Store>> Open() override { return store::OpenPgStore({url_, 4}); }
  bool persistent() const override { return true; }
  const std::string& url() const { return url_; }

 private:
  std::string url_;
};

std::unique_ptr<BackendEnv> MakePgEnv() {
  auto url = fptest::FreshPgDatabase();
  if (!url) return nullptr;
  return std::make_unique<PgEnv>(*url);
}

INSTANTIATE_TEST_SUITE_P(Pg, StoreContract,
                         ::testing::Values(Backend{"postgresql", MakePgEnv, fptest::kPgSkipReason}), BackendName);

// A raw libpq connection for looking behind the store's back.
class RawPg {
 public:
  explicit RawPg(const std::string& url) : c_(PQconnectdb(url.c_str())) {
    if (PQstatus(c_) != CONNECTION_OK) ADD_FAILURE() << "raw connect: " << PQerrorMessage(c_);
  }
  ~RawPg() { PQfinish(c_); }
  // First column of the first row ("" when none).
  std::string Query(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    std::string out;
    const auto st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
      ADD_FAILURE() << sql << ": " << PQresultErrorMessage(r);
    else if (st == PGRES_TUPLES_OK && PQntuples(r) > 0)
      out = PQgetvalue(r, 0, 0);
    PQclear(r);
    return out;
  }

 private:
  PGconn* c_;
};

class PgNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = fptest::FreshPgDatabase();
    if (!url) GTEST_SKIP() << fptest::kPgSkipReason;
    url_ = *url;
    a_ = MustOpen();
    b_ = MustOpen();
  }
  std::unique_ptr<store::Store> MustOpen() {
    auto s = store::OpenPgStore({url_, 4});
    EXPECT_TRUE(s.ok()) << Detail(s.error());
    return s.ok() ? std::move(s).value() : nullptr;
  }
  Account MustAccount(store::Store& s, const std::string& email) {
    Account a{core::NewUuid4(), "org", email, "hash", false, 1};
    EXPECT_TRUE(s.CreateAccount(a, store::Token{core::NewUuid4(), a.id, "", 1}).ok());
    return a;
  }
  static Descriptor NewDescriptor(const std::string& account_id, int64_t t, float seed) {
    Descriptor d;
    d.id = core::NewUuid4();
    d.account_id = account_id;
    d.version = 59;
    d.values = {seed, seed + 1, seed + 2, seed + 3};
    d.create_time_ms = t;
    return d;
  }

  std::string url_;
  std::unique_ptr<store::Store> a_, b_;
};

TEST(PgStoreOptions, BadOptionsAndUnreachableServersAreInternalErrorsWithoutThePassword) {
  auto bad = store::OpenPgStore({"sqlite:///tmp/x", 4});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, core::Errc::Internal);
  auto pool = store::OpenPgStore({"postgresql://u@127.0.0.1:1/db", 0});
  ASSERT_FALSE(pool.ok());
  // Port 1 on loopback: nothing listens; the error names the step but never the password.
  auto down = store::OpenPgStore({"postgresql://user:hunter2@127.0.0.1:1/db?connect_timeout=2", 1});
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, core::Errc::Internal);
  EXPECT_EQ(down.error().log_detail.find("hunter2"), std::string::npos) << down.error().log_detail;
}

TEST(PgStoreOptions, UrlsAreRecognisedAndPasswordsRedacted) {
  EXPECT_TRUE(store::IsPgUrl("postgresql://h/db"));
  EXPECT_TRUE(store::IsPgUrl("postgres://h/db"));
  EXPECT_FALSE(store::IsPgUrl("/var/lib/faceport.db"));
  EXPECT_EQ(store::RedactUrlPassword("postgresql://u:secret@h:5432/db?sslmode=require"),
            "postgresql://u:***@h:5432/db?sslmode=require");
  EXPECT_EQ(store::RedactUrlPassword("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(store::RedactUrlPassword("postgresql://h/db"), "postgresql://h/db");
  EXPECT_EQ(store::RedactUrlPassword("postgresql://u:p@ss@h/db"), "postgresql://u:***@h/db");
}

// Nodes starting at once on a fresh database: one applies the migrations, all succeed.
TEST_F(PgNodes, ConcurrentStartupsMigrateOnce) {
  auto url = fptest::FreshPgDatabase();
  ASSERT_TRUE(url.has_value());
  std::vector<std::thread> nodes;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    nodes.emplace_back([&] {
      if (store::OpenPgStore({*url, 1}).ok()) ++ok;
    });
  for (auto& t : nodes) t.join();
  EXPECT_EQ(ok.load(), 4);
  RawPg raw(*url);
  EXPECT_EQ(raw.Query("SELECT count(*) FROM schema_migrations"), "4");
  EXPECT_EQ(raw.Query("SELECT max(version) FROM schema_migrations"), "4");
}

TEST_F(PgNodes, NewerSchemaIsRefused) {
  RawPg raw(url_);
  raw.Query("INSERT INTO schema_migrations(version, applied_at) VALUES (99, 0)");
  auto s = store::OpenPgStore({url_, 1});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().log_detail.find("newer"), std::string::npos) << s.error().log_detail;
}

// Writers on both nodes; a reader on node A polling the feed sees consecutive seqs only and
// ends with exactly the rows both nodes wrote. (A sequence-assigned seq fails this: a
// transaction that drew a smaller number but commits later becomes visible after a larger
// one, and a reader that moved past it skips it for good.)
TEST_F(PgNodes, WritersOnTwoNodesFeedOneGapFreeOrderedSequence) {
  Account acc = MustAccount(*a_, "two-nodes@example.com");
  constexpr int kPerNode = 2, kRounds = 40;
  std::atomic<int> left{2 * kPerNode};
  std::mutex mu;
  std::vector<std::string> failures;
  auto fail = [&](const std::string& f) {
    std::lock_guard lk(mu);
    failures.push_back(f);
  };
  std::vector<std::thread> writers;
  for (int n = 0; n < 2; ++n)
    for (int w = 0; w < kPerNode; ++w)
      writers.emplace_back([&, n, w] {
        store::Store& node = n == 0 ? *a_ : *b_;
        for (int r = 0; r < kRounds; ++r)
          if (!node.CreateDescriptors({NewDescriptor(acc.id, 1000 + r, float(n * 1000 + w * 100 + r))}))
            fail("create");
        --left;
      });
  int64_t seen = 0;
  std::set<std::string> ids;
  std::thread reader([&] {
    for (;;) {
      const bool last = left.load() == 0;
      auto rows = a_->ChangesSince(seen, 5);
      if (!rows) return fail("changes since: " + rows.error().log_detail);
      for (const auto& c : *rows) {
        if (c.seq != seen + 1) return fail("seq " + std::to_string(c.seq) + " after " + std::to_string(seen));
        seen = c.seq;
        ids.insert(c.descriptor_id);
      }
      if (last && rows->size() < 5) return;
    }
  });
  for (auto& t : writers) t.join();
  reader.join();
  ASSERT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(seen, 2 * kPerNode * kRounds);
  EXPECT_EQ(ids.size(), static_cast<size_t>(2 * kPerNode * kRounds));
  EXPECT_EQ(GET(b_->LastChangeSeq()), seen);
}

// One collector at a time: while another session holds the collector lock, a collection on
// this node deletes nothing (and says so by returning nothing); once released it collects.
TEST_F(PgNodes, OnlyOneCollectorRunsAtATime) {
  Account acc = MustAccount(*a_, "gc-lock@example.com");
  Descriptor d = NewDescriptor(acc.id, 1000, 1.0f);
  ASSERT_OK(a_->CreateDescriptors({d}));
  RawPg other(url_);
  other.Query("SELECT pg_advisory_lock(" + std::to_string(0x66707402) + ")");  // kCollectorLockKey
  auto busy = b_->CollectUnlinkedDescriptors(int64_t{1} << 50, 0);
  ASSERT_TRUE(busy.ok()) << Detail(busy.error());
  EXPECT_TRUE(busy->empty());
  EXPECT_TRUE(GET(a_->DescriptorExists(d.id)));
  other.Query("SELECT pg_advisory_unlock(" + std::to_string(0x66707402) + ")");
  auto got = GET(b_->CollectUnlinkedDescriptors(int64_t{1} << 50, 0));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, d.id);
  EXPECT_FALSE(GET(a_->DescriptorExists(d.id)));
}

// Collectors on both nodes in a loop while node B creates descriptors and links them at once:
// a descriptor whose attach succeeded is never deleted, by either collector.
TEST_F(PgNodes, CollectorsOnTwoNodesNeverDeleteWhatTheOtherNodeLinked) {
  Account acc = MustAccount(*a_, "gc-nodes@example.com");
  store::Person p{core::NewUuid4(), acc.id, "", std::nullopt, 1000, 0, {}, {}};
  ASSERT_OK(a_->CreatePerson(p));
  std::atomic<bool> done{false};
  std::mutex mu;
  std::set<std::string> collected, attached;
  std::vector<std::string> errors;
  auto collector = [&](store::Store& node) {
    while (!done.load()) {
      auto got = node.CollectUnlinkedDescriptors(int64_t{1} << 50, 0);
      std::lock_guard lk(mu);
      if (!got) {
        errors.push_back(Detail(got.error()));
        continue;
      }
      for (const auto& c : *got) collected.insert(c.id);
    }
  };
  std::thread ca([&] { collector(*a_); }), cb([&] { collector(*b_); });
  for (int i = 0; i < 60; ++i) {
    Descriptor d = NewDescriptor(acc.id, 1000, float(i));
    ASSERT_OK(b_->CreateDescriptors({d}));
    auto st = b_->LinkPersonDescriptor(acc.id, p.id, d.id, LinkAction::Attach, 2000);
    std::lock_guard lk(mu);
    if (st)
      attached.insert(d.id);
    else if (st.error().code != core::Errc::DescriptorNotFoundRef)
      errors.push_back(Detail(st.error()));
  }
  done = true;
  ca.join();
  cb.join();
  for (const auto& e : errors) ADD_FAILURE() << e;
  for (const auto& id : attached) {
    EXPECT_EQ(collected.count(id), 0u) << "a linked descriptor was collected";
    EXPECT_TRUE(GET(a_->DescriptorExists(id)));
  }
  EXPECT_EQ(attached.size() + collected.size(), 60u);
}

// A write committed through node A wakes node B's listener (LISTEN/NOTIFY); a rolled-back
// write (a failed link) does not need to, and writes that feed nothing (accounts) do not.
TEST_F(PgNodes, CommittedChangesOnOneNodeWakeTheOtherNodesListener) {
  std::mutex mu;
  std::condition_variable cv;
  int wakes = 0;
  auto listener = b_->ListenForChanges([&] {
    std::lock_guard lk(mu);
    ++wakes;
    cv.notify_all();
  });
  ASSERT_TRUE(listener.ok()) << Detail(listener.error());
  ASSERT_NE(*listener, nullptr);
  // The listener connects in the background: write until the first wake arrives (a
  // notice sent before its LISTEN ran is not delivered to it, by design of NOTIFY).
  Account acc = MustAccount(*a_, "notify@example.com");
  std::unique_lock lk(mu);
  bool woke = false;
  for (int i = 0; i < 300 && !woke; ++i) {
    lk.unlock();
    ASSERT_OK(a_->CreateDescriptors({NewDescriptor(acc.id, 1000, float(i))}));
    lk.lock();
    woke = cv.wait_for(lk, std::chrono::milliseconds(100), [&] { return wakes > 0; });
  }
  EXPECT_TRUE(woke) << "no notice arrived";
  // Once listening, every committed change wakes it.
  const int before = wakes;
  lk.unlock();
  ASSERT_OK(a_->CreateDescriptors({NewDescriptor(acc.id, 1000, 7.0f)}));
  lk.lock();
  EXPECT_TRUE(cv.wait_for(lk, std::chrono::seconds(30), [&] { return wakes > before; }));
  lk.unlock();
  listener->reset();  // stops and joins the listening thread
}

// The server drops every connection of the store (a restart, a failover): the next call may
// fail with the broken connection, after which the pool reconnects and calls succeed.
TEST_F(PgNodes, ConnectionsDroppedByTheServerAreReconnected) {
  Account acc = MustAccount(*a_, "reconnect@example.com");
  RawPg admin(url_);
  admin.Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
              " WHERE datname = current_database() AND pid <> pg_backend_pid()");
  bool ok = false;
  for (int i = 0; i < 10 && !ok; ++i) ok = a_->FindAccountById(acc.id).ok();  // each broken one fails once
  EXPECT_TRUE(ok);
  auto found = GET(a_->FindAccountById(acc.id));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->email, "reconnect@example.com");
  EXPECT_OK(a_->CreateDescriptors({NewDescriptor(acc.id, 1000, 1.0f)}));
}

}  // namespace
}  // namespace store_testing
