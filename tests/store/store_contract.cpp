// The backend-independent contract cases. Only store::Store methods are used here; anything
// that needs to look inside a particular database belongs in that backend's own test file.
#include "store_contract.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "core/uuid.hpp"

namespace store_testing {
namespace {

using store::Account;
using store::PageRequest;
using store::Token;

std::vector<std::string> Ids(const std::vector<Token>& tokens) {
  std::vector<std::string> ids;
  for (const auto& t : tokens) ids.push_back(t.id);
  return ids;
}

void ExpectSameAccount(const Account& a, const Account& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.organization_name, b.organization_name);
  EXPECT_EQ(a.email, b.email);
  EXPECT_EQ(a.password_hash, b.password_hash);
  EXPECT_EQ(a.suspended, b.suspended);
  EXPECT_EQ(a.create_time_ms, b.create_time_ms);
}

void ExpectSameToken(const Token& a, const Token& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.account_id, b.account_id);
  EXPECT_EQ(a.token_data, b.token_data);
  EXPECT_EQ(a.create_time_ms, b.create_time_ms);
}

}  // namespace

// --- fixture --------------------------------------------------------------------------------

void StoreContract::SetUp() {
  env_ = GetParam().make_env();
  if (!env_) GTEST_SKIP() << GetParam().skip_reason;
  auto opened = env_->Open();
  ASSERT_TRUE(opened.ok()) << Detail(opened.error());
  store_ = std::move(opened).value();
}

void StoreContract::TearDown() {
  store_.reset();
  env_.reset();
}

void StoreContract::Reopen() {
  store_.reset();
  auto opened = env_->Open();
  ASSERT_TRUE(opened.ok()) << Detail(opened.error());
  store_ = std::move(opened).value();
}

Account StoreContract::NewAccount(const std::string& email, int64_t create_time_ms) {
  Account a;
  a.id = core::NewUuid4();
  a.organization_name = "Org of " + email;
  a.email = email;
  a.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
  a.create_time_ms = create_time_ms;
  return a;
}

Token StoreContract::NewToken(const std::string& account_id, const std::string& data, int64_t create_time_ms) {
  return Token{core::NewUuid4(), account_id, data, create_time_ms};
}

Account StoreContract::MustCreateAccount(const std::string& email, Token* first_token) {
  Account a = NewAccount(email);
  Token t = NewToken(a.id, "first", 1000);
  auto st = s().CreateAccount(a, t);
  EXPECT_TRUE(st.ok()) << "CreateAccount(" << email << ") -> " << Detail(st.error());
  if (first_token) *first_token = t;
  return a;
}

Token StoreContract::MustCreateToken(const std::string& account_id, const std::string& data, int64_t create_time_ms) {
  Token t = NewToken(account_id, data, create_time_ms);
  auto st = s().CreateToken(t);
  EXPECT_TRUE(st.ok()) << "CreateToken -> " << Detail(st.error());
  return t;
}

// --- cases ----------------------------------------------------------------------------------

TEST_P(StoreContract, Ping) { EXPECT_OK(s().Ping()); }

TEST_P(StoreContract, CreateAccountStoresAccountAndFirstToken) {
  Account a = NewAccount("alice@example.com", 1234);
  a.suspended = false;
  Token t = NewToken(a.id, "first token", 1234);
  ASSERT_OK(s().CreateAccount(a, t));

  auto by_email = GET(s().FindAccountByEmail("alice@example.com"));
  ASSERT_TRUE(by_email.has_value());
  ExpectSameAccount(*by_email, a);
  auto by_id = GET(s().FindAccountById(a.id));
  ASSERT_TRUE(by_id.has_value());
  ExpectSameAccount(*by_id, a);

  auto token = GET(s().GetToken(a.id, t.id));
  ASSERT_TRUE(token.has_value());
  ExpectSameToken(*token, t);
  auto owner = GET(s().FindTokenOwner(t.id));
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->id, a.id);
  auto page = GET(s().ListTokens(a.id, PageRequest{1, 10}));
  EXPECT_EQ(page.count, 1);
  ASSERT_EQ(page.items.size(), 1u);
  ExpectSameToken(page.items[0], t);
}

TEST_P(StoreContract, DuplicateEmailIsEmailExistsAndCreatesNothing) {
  MustCreateAccount("dup@example.com");
  Account second = NewAccount("dup@example.com");
  Token second_token = NewToken(second.id, "second");
  auto st = s().CreateAccount(second, second_token);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, core::Errc::EmailExists) << Detail(st.error());

  EXPECT_FALSE(GET(s().FindAccountById(second.id)).has_value());
  EXPECT_FALSE(GET(s().FindTokenOwner(second_token.id)).has_value());
  EXPECT_EQ(GET(s().ListTokens(second.id, PageRequest{1, 10})).count, 0);
  // The store is still usable afterwards (no transaction left open).
  MustCreateAccount("other@example.com");
}

TEST_P(StoreContract, FailedFirstTokenLeavesNoAccount) {
  Token existing;
  MustCreateAccount("first@example.com", &existing);
  // The new account's first token reuses an existing token id: the token insert fails,
  // so the account insert of the same call must be undone too.
  Account a = NewAccount("second@example.com");
  Token clash{existing.id, a.id, "clash", 5};
  EXPECT_FALSE(s().CreateAccount(a, clash).ok());
  EXPECT_FALSE(GET(s().FindAccountByEmail("second@example.com")).has_value());
  EXPECT_FALSE(GET(s().FindAccountById(a.id)).has_value());
}

TEST_P(StoreContract, FirstTokenOfAnotherAccountIsRefused) {
  Account a = NewAccount("mismatch@example.com");
  Token t = NewToken(core::NewUuid4());
  EXPECT_FALSE(s().CreateAccount(a, t).ok());
  EXPECT_FALSE(GET(s().FindAccountById(a.id)).has_value());
  EXPECT_FALSE(GET(s().FindTokenOwner(t.id)).has_value());
}

TEST_P(StoreContract, UnknownAccountsAreNotFound) {
  MustCreateAccount("known@example.com");
  EXPECT_FALSE(GET(s().FindAccountByEmail("unknown@example.com")).has_value());
  EXPECT_FALSE(GET(s().FindAccountById(core::NewUuid4())).has_value());
  EXPECT_FALSE(GET(s().FindAccountByEmail("")).has_value());
}

TEST_P(StoreContract, SuspendAndResume) {
  Account a = MustCreateAccount("susp@example.com");
  EXPECT_TRUE(GET(s().SetAccountSuspended("susp@example.com", true)));
  EXPECT_TRUE(GET(s().FindAccountById(a.id))->suspended);
  // Idempotent: the account exists, so true again.
  EXPECT_TRUE(GET(s().SetAccountSuspended("susp@example.com", true)));
  EXPECT_TRUE(GET(s().FindAccountByEmail("susp@example.com"))->suspended);
  EXPECT_TRUE(GET(s().SetAccountSuspended("susp@example.com", false)));
  EXPECT_FALSE(GET(s().FindAccountById(a.id))->suspended);
  EXPECT_FALSE(GET(s().SetAccountSuspended("nobody@example.com", true)));
}

TEST_P(StoreContract, FindTokenOwnerAcrossAccounts) {
  Token first_a, first_b;
  Account a = MustCreateAccount("a@example.com", &first_a);
  Account b = MustCreateAccount("b@example.com", &first_b);
  Token extra_b = MustCreateToken(b.id);
  EXPECT_EQ(GET(s().FindTokenOwner(first_a.id))->id, a.id);
  EXPECT_EQ(GET(s().FindTokenOwner(first_b.id))->id, b.id);
  EXPECT_EQ(GET(s().FindTokenOwner(extra_b.id))->email, "b@example.com");
  EXPECT_FALSE(GET(s().FindTokenOwner(core::NewUuid4())).has_value());
  // A suspended owner is still returned; refusing it is the caller's decision.
  ASSERT_TRUE(GET(s().SetAccountSuspended("a@example.com", true)));
  auto owner = GET(s().FindTokenOwner(first_a.id));
  ASSERT_TRUE(owner.has_value());
  EXPECT_TRUE(owner->suspended);
}

TEST_P(StoreContract, CreateTokenForUnknownAccountFails) {
  MustCreateAccount("real@example.com");
  Token orphan = NewToken(core::NewUuid4());
  EXPECT_FALSE(s().CreateToken(orphan).ok());
  EXPECT_FALSE(GET(s().FindTokenOwner(orphan.id)).has_value());
}

TEST_P(StoreContract, TokenDataIsStoredVerbatim) {
  Account a = MustCreateAccount("verbatim@example.com");
  const std::vector<std::string> samples = {"", "'; DROP TABLE tokens; --", "quote \" and \\ backslash",
                                            "юникод ✓ 🙂", std::string(128, 'x')};
  for (const auto& data : samples) {
    Token t = MustCreateToken(a.id, data);
    auto got = GET(s().GetToken(a.id, t.id));
    ASSERT_TRUE(got.has_value()) << data;
    EXPECT_EQ(got->token_data, data);
  }
  EXPECT_EQ(GET(s().ListTokens(a.id, PageRequest{1, 100})).count, 1 + static_cast<int64_t>(samples.size()));
}

TEST_P(StoreContract, ListTokensPagesInCreationOrderWithTotalCount) {
  Token first;
  Account a = MustCreateAccount("pages@example.com", &first);  // first token at t=1000
  std::vector<Token> all = {first};
  // 24 more tokens, inserted out of order, with groups of equal timestamps (ties keep
  // insertion order: two tokens made in the same millisecond list in the order they were made).
  for (int i = 0; i < 24; ++i) all.push_back(MustCreateToken(a.id, std::to_string(i), 5000 - (i / 3) * 100));
  std::stable_sort(all.begin(), all.end(),
                   [](const Token& x, const Token& y) { return x.create_time_ms < y.create_time_ms; });

  std::vector<Token> seen;
  for (int64_t page = 1; page <= 3; ++page) {
    auto p = GET(s().ListTokens(a.id, PageRequest{page, 10}));
    EXPECT_EQ(p.count, 25);
    EXPECT_EQ(p.items.size(), page < 3 ? 10u : 5u) << "page " << page;
    seen.insert(seen.end(), p.items.begin(), p.items.end());
  }
  EXPECT_EQ(Ids(seen), Ids(all));
  for (size_t i = 0; i < std::min(seen.size(), all.size()); ++i) ExpectSameToken(seen[i], all[i]);

  auto one = GET(s().ListTokens(a.id, PageRequest{7, 1}));
  ASSERT_EQ(one.items.size(), 1u);
  EXPECT_EQ(one.items[0].id, all[6].id);
}

TEST_P(StoreContract, PagePastTheEndIsEmptyWithCount) {
  Account a = MustCreateAccount("end@example.com");
  for (int i = 0; i < 4; ++i) MustCreateToken(a.id);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const std::vector<PageRequest> past = {{2, 5}, {3, 5}, {2, 1000}, {kMax, 1000}, {kMax, 1}, {kMax / 2, 3}};
  for (const auto& req : past) {
    auto p = GET(s().ListTokens(a.id, req));
    EXPECT_TRUE(p.items.empty()) << "page " << req.page << " size " << req.page_size;
    EXPECT_EQ(p.count, 5) << "page " << req.page << " size " << req.page_size;
  }
  auto empty = GET(s().ListTokens(core::NewUuid4(), PageRequest{1, 10}));
  EXPECT_TRUE(empty.items.empty());
  EXPECT_EQ(empty.count, 0);
}

TEST_P(StoreContract, GetUpdateDeleteToken) {
  Account a = MustCreateAccount("crud@example.com");
  Token t = MustCreateToken(a.id, "before", 7000);

  EXPECT_TRUE(GET(s().UpdateTokenData(a.id, t.id, "after")));
  auto got = GET(s().GetToken(a.id, t.id));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->token_data, "after");
  EXPECT_EQ(got->create_time_ms, 7000);
  // Same value again still reports that the token exists.
  EXPECT_TRUE(GET(s().UpdateTokenData(a.id, t.id, "after")));
  EXPECT_FALSE(GET(s().UpdateTokenData(a.id, core::NewUuid4(), "x")));
  EXPECT_FALSE(GET(s().GetToken(a.id, core::NewUuid4())).has_value());

  EXPECT_TRUE(GET(s().DeleteToken(a.id, t.id)));
  EXPECT_FALSE(GET(s().DeleteToken(a.id, t.id)));
  EXPECT_FALSE(GET(s().GetToken(a.id, t.id)).has_value());
  EXPECT_FALSE(GET(s().FindTokenOwner(t.id)).has_value());
  EXPECT_FALSE(GET(s().UpdateTokenData(a.id, t.id, "gone")));
  EXPECT_EQ(GET(s().ListTokens(a.id, PageRequest{1, 10})).count, 1);
}

TEST_P(StoreContract, DeleteTokensDeletesOwnedIdsAndIgnoresOthers) {
  Token first;
  Account a = MustCreateAccount("many@example.com", &first);
  std::vector<Token> tokens;
  for (int i = 0; i < 5; ++i) tokens.push_back(MustCreateToken(a.id, "m", 3000 + i));

  EXPECT_OK(s().DeleteTokens(a.id, {}));
  EXPECT_OK(s().DeleteTokens(a.id, {tokens[0].id, core::NewUuid4(), tokens[2].id, tokens[2].id, "not-a-uuid"}));
  auto page = GET(s().ListTokens(a.id, PageRequest{1, 10}));
  EXPECT_EQ(page.count, 4);
  EXPECT_EQ(Ids(page.items), (std::vector<std::string>{first.id, tokens[1].id, tokens[3].id, tokens[4].id}));
}

TEST_P(StoreContract, TenancyIsolatesAccounts) {
  Token a_first;
  Account a = MustCreateAccount("tenant-a@example.com", &a_first);
  Account b = MustCreateAccount("tenant-b@example.com");
  Token a_tok = MustCreateToken(a.id, "secret of a");

  EXPECT_FALSE(GET(s().GetToken(b.id, a_tok.id)).has_value());
  EXPECT_FALSE(GET(s().UpdateTokenData(b.id, a_tok.id, "hijacked")));
  EXPECT_FALSE(GET(s().DeleteToken(b.id, a_tok.id)));
  EXPECT_OK(s().DeleteTokens(b.id, {a_first.id, a_tok.id}));

  auto b_page = GET(s().ListTokens(b.id, PageRequest{1, 100}));
  EXPECT_EQ(b_page.count, 1);
  for (const auto& t : b_page.items) EXPECT_EQ(t.account_id, b.id);

  auto a_page = GET(s().ListTokens(a.id, PageRequest{1, 100}));
  EXPECT_EQ(a_page.count, 2);
  auto still = GET(s().GetToken(a.id, a_tok.id));
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->token_data, "secret of a");
}

TEST_P(StoreContract, ConcurrentWritesAndReads) {
  Account a = MustCreateAccount("busy@example.com");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto fail = [&](const core::Error& e) {
        ++failures;
        errors[t] = Detail(e);
      };
      for (int i = 0; i < kPerThread; ++i) {
        Token tok{core::NewUuid4(), a.id, "thread " + std::to_string(t), 10000 + t * 100 + i};
        if (auto st = store_->CreateToken(tok); !st) fail(st.error());
        if (auto got = store_->GetToken(a.id, tok.id); !got)
          fail(got.error());
        else if (!got->has_value())
          fail(core::InternalError("a committed token is not visible"));
        if (auto page = store_->ListTokens(a.id, PageRequest{1, 5}); !page) fail(page.error());
        if (auto owner = store_->FindTokenOwner(tok.id); !owner) fail(owner.error());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (const auto& e : errors) EXPECT_TRUE(e.empty()) << e;

  auto page = GET(s().ListTokens(a.id, PageRequest{1, 1000}));
  EXPECT_EQ(page.count, 1 + kThreads * kPerThread);
  const auto ids = Ids(page.items);
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), page.items.size());
}

TEST_P(StoreContract, DataSurvivesReopen) {
  if (!env_->persistent()) GTEST_SKIP() << "backend does not persist across reopen";
  Token first;
  Account a = MustCreateAccount("durable@example.com", &first);
  Token extra = MustCreateToken(a.id, "kept", 4242);
  ASSERT_TRUE(GET(s().SetAccountSuspended("durable@example.com", true)));

  Reopen();
  Reopen();  // opening an already migrated database twice must work too

  auto got = GET(s().FindAccountByEmail("durable@example.com"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, a.id);
  EXPECT_TRUE(got->suspended);
  auto tok = GET(s().GetToken(a.id, extra.id));
  ASSERT_TRUE(tok.has_value());
  ExpectSameToken(*tok, extra);
  EXPECT_EQ(GET(s().ListTokens(a.id, PageRequest{1, 10})).count, 2);
  // Unique constraints survive too.
  Account again = NewAccount("durable@example.com");
  auto dup = s().CreateAccount(again, NewToken(again.id));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, core::Errc::EmailExists);
}

}  // namespace store_testing
