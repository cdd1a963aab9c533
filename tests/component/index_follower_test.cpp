// api::IndexFollower over a real SQLite file: snapshot load, catch-up, read-your-writes under
// concurrent writers and matchers, reload after the feed was pruned past it, background
// catch-up and pruning.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include "api/index_follower.hpp"
#include "core/uuid.hpp"
#include "store/sqlite_store.hpp"

namespace {
constexpr size_t kDim = 512;

std::vector<float> RandomUnit(std::mt19937& rng) {
  std::normal_distribution<float> n;
  std::vector<float> v(kDim);
  double s = 0;
  for (auto& x : v) {
    x = n(rng);
    s += double(x) * x;
  }
  for (auto& x : v) x = float(x / std::sqrt(s));
  return v;
}

match::Id Id(const std::string& s) { return *match::ParseId(s); }

class Follower : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fp_follower_XXXXXX";
    dir_ = mkdtemp(tmpl);
    store::SqliteOptions so;
    so.path = dir_ + "/faceport.db";
    auto st = store::OpenSqliteStore(so);
    ASSERT_TRUE(st) << st.error().log_detail;
    store_ = std::move(*st);
    account_ = NewAccount();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string NewAccount() {
    store::Account a;
    a.id = core::NewUuid4();
    a.email = a.id + "@example.com";
    a.organization_name = "o";
    a.password_hash = "x";
    store::Token t;
    t.id = core::NewUuid4();
    t.account_id = a.id;
    EXPECT_TRUE(store_->CreateAccount(a, t));
    return a.id;
  }
  std::string AddDescriptor(const std::string& account, const std::vector<float>& v) {
    store::Descriptor d;
    d.id = core::NewUuid4();
    d.account_id = account;
    d.version = 1;
    d.values = v;
    d.create_time_ms = 1;
    EXPECT_TRUE(store_->CreateDescriptors({d}));
    return d.id;
  }
  std::string AddPerson(const std::string& account) {
    store::Person p;
    p.id = core::NewUuid4();
    p.account_id = account;
    p.create_time_ms = 1;
    EXPECT_TRUE(store_->CreatePerson(p));
    return p.id;
  }
  std::string AddList(const std::string& account, store::ListType type) {
    store::List l;
    l.id = core::NewUuid4();
    l.account_id = account;
    l.type = type;
    l.create_time_ms = 1;
    EXPECT_TRUE(store_->CreateList(l));
    return l.id;
  }
  std::vector<match::Candidate> Match(api::IndexFollower& f, const std::string& account, const std::vector<float>& q,
                                      const match::Target& t, size_t k = 5) {
    auto r = f.index()->Match(Id(account), q, t, k);
    if (!r) return {};
    return *r;
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::string account_;
  std::mt19937 rng_{42};
};

TEST_F(Follower, LoadsTheSnapshotThenFollowsEveryKindOfChange) {
  auto v1 = RandomUnit(rng_), v2 = RandomUnit(rng_);
  const auto d1 = AddDescriptor(account_, v1);
  const auto p1 = AddPerson(account_);
  ASSERT_TRUE(store_->LinkPersonDescriptor(account_, p1, d1, store::LinkAction::Attach, 2));
  const auto pl = AddList(account_, store::ListType::Persons);
  ASSERT_TRUE(store_->LinkList(account_, pl, store::ListType::Persons, store::LinkAction::Attach, {p1}, 2));

  api::IndexFollower f(*store_);
  ASSERT_TRUE(f.Load());
  auto r = Match(f, account_, v1, match::Target::PersonsList(Id(pl)));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].descriptor_id, Id(d1));
  EXPECT_EQ(r[0].person_id, Id(p1));
  EXPECT_GT(r[0].cosine, 0.99f);

  // Changes after the snapshot: a descriptor in a descriptors list, detach, person delete.
  const auto d2 = AddDescriptor(account_, v2);
  const auto dl = AddList(account_, store::ListType::Descriptors);
  ASSERT_TRUE(store_->LinkList(account_, dl, store::ListType::Descriptors, store::LinkAction::Attach, {d2, d1}, 3));
  ASSERT_TRUE(f.CatchUp());
  r = Match(f, account_, v2, match::Target::DescriptorsList(Id(dl)));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].descriptor_id, Id(d2));

  ASSERT_TRUE(store_->DeletePerson(account_, p1, 4));
  ASSERT_TRUE(f.CatchUp());
  EXPECT_TRUE(Match(f, account_, v1, match::Target::PersonIds({Id(p1)})).empty());
  r = Match(f, account_, v1, match::Target::DescriptorIds({Id(d1)}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].person_id.has_value());

  ASSERT_TRUE(store_->DeleteList(account_, dl, 5));
  ASSERT_TRUE(f.CatchUp());
  EXPECT_FALSE(f.index()->Match(Id(account_), v1, match::Target::DescriptorsList(Id(dl)), 5));

  // The collector removes unlinked descriptors: gone from the index too.
  ASSERT_TRUE(store_->CollectUnlinkedDescriptors(1'000'000, 0));
  ASSERT_TRUE(f.CatchUp());
  EXPECT_EQ(f.index()->Size(Id(account_)), 0u);
}

// Writers and matchers in several threads: every write acknowledged before a CatchUp is seen
// by the query after it, and nothing removed before it is ever returned.
TEST_F(Follower, ReadYourWritesUnderConcurrentWritersAndMatchers) {
  api::IndexFollower f(*store_, api::IndexFollowerOptions{kDim, 7, 100000});  // tiny batches
  ASSERT_TRUE(f.Load());
  const auto list = AddList(account_, store::ListType::Persons);
  std::atomic<int> failures{0};
  auto worker = [&](int seed) {
    std::mt19937 rng(seed);
    const std::string account = seed % 2 ? account_ : account_;
    for (int i = 0; i < 25; ++i) {
      auto v = RandomUnit(rng);
      const auto d = AddDescriptor(account, v);
      const auto p = AddPerson(account);
      if (!store_->LinkPersonDescriptor(account, p, d, store::LinkAction::Attach, 2)) ++failures;
      if (!store_->LinkList(account, list, store::ListType::Persons, store::LinkAction::Attach, {p}, 2)) ++failures;
      if (!f.CatchUp()) ++failures;
      auto r = Match(f, account, v, match::Target::PersonsList(Id(list)), 1);
      if (r.size() != 1 || r[0].descriptor_id != Id(d) || r[0].person_id != Id(p)) ++failures;
      // Delete the person: it must be gone from the list and its descriptor detached.
      if (!store_->DeletePerson(account, p, 3)) ++failures;
      if (!f.CatchUp()) ++failures;
      r = Match(f, account, v, match::Target::PersonsList(Id(list)), 5);
      for (const auto& c : r)
        if (c.person_id == Id(p)) ++failures;
      r = Match(f, account, v, match::Target::DescriptorIds({Id(d)}), 1);
      if (r.size() != 1 || r[0].person_id.has_value()) ++failures;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(worker, 100 + t);
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(f.index()->Size(Id(account_)), 100u);
}

TEST_F(Follower, ReloadsFromASnapshotWhenItsPositionWasPruned) {
  api::IndexFollower f(*store_);
  ASSERT_TRUE(f.Load());
  auto v = RandomUnit(rng_);
  const auto d = AddDescriptor(account_, v);
  AddDescriptor(account_, RandomUnit(rng_));
  auto last = store_->LastChangeSeq();
  ASSERT_TRUE(last);
  ASSERT_TRUE(store_->PruneChanges(*last));  // another node pruned past us
  ASSERT_TRUE(f.CatchUp());
  EXPECT_EQ(f.reloads(), 1);
  EXPECT_EQ(f.applied_seq(), *last);
  auto r = Match(f, account_, v, match::Target::All(), 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].descriptor_id, Id(d));
}

TEST_F(Follower, BackgroundThreadCatchesUpAndPrunesBehindAMargin) {
  api::IndexFollower f(*store_, api::IndexFollowerOptions{kDim, 10000, 2});
  ASSERT_TRUE(f.Load());
  f.Start(10);
  auto v = RandomUnit(rng_);
  const auto d = AddDescriptor(account_, v);
  for (int i = 0; i < 4; ++i) AddDescriptor(account_, RandomUnit(rng_));
  bool seen = false;
  for (int i = 0; i < 300 && !seen; ++i) {
    auto r = Match(f, account_, v, match::Target::DescriptorIds({Id(d)}), 1);
    seen = r.size() == 1 && f.applied_seq() == 5;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(seen);
  bool pruned = false;
  for (int i = 0; i < 300 && !pruned; ++i) {
    auto p = store_->PrunedChangeSeq();
    pruned = p && *p == 3;
    if (!pruned) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(pruned);
  f.Stop();
}

TEST_F(Follower, AccountsAreSeparate) {
  const auto other = NewAccount();
  auto v = RandomUnit(rng_);
  AddDescriptor(other, v);
  api::IndexFollower f(*store_);
  ASSERT_TRUE(f.Load());
  EXPECT_TRUE(Match(f, account_, v, match::Target::All()).empty());
  EXPECT_EQ(Match(f, other, v, match::Target::All()).size(), 1u);
}

}  // namespace
