#pragma once
// The store contract suite: every behaviour store.hpp promises, written once against
// store::Store& and run for every backend. The cases (store_contract.cpp) know nothing
// about any backend; a backend joins by providing a BackendEnv and instantiating the suite:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContract,
//                            ::testing::Values(store_testing::Backend{"file", MakeFileEnv}),
//                            store_testing::BackendName);
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "store/store.hpp"

namespace store_testing {

inline std::string Detail(const core::Error& e) { return std::string(core::ErrcName(e.code)) + ": " + e.log_detail; }

#define EXPECT_OK(expr)                                            \
  do {                                                             \
    auto&& r_ = (expr);                                            \
    EXPECT_TRUE(r_.ok()) << #expr << " -> " << Detail(r_.error()); \
  } while (0)
#define ASSERT_OK(expr)                                            \
  do {                                                             \
    auto&& r_ = (expr);                                            \
    ASSERT_TRUE(r_.ok()) << #expr << " -> " << Detail(r_.error()); \
  } while (0)

// Unwraps a Result, failing the test (and returning T{}) when it holds an error.
template <class T>
T Get(core::Result<T> r, const char* what) {
  if (!r.ok()) {
    ADD_FAILURE() << what << " -> " << Detail(r.error());
    return T{};
  }
  return std::move(r).value();
}
#define GET(expr) ::store_testing::Get((expr), #expr)

// One fresh, empty database for one test case. Destroying it removes the database.
class BackendEnv {
 public:
  virtual ~BackendEnv() = default;
  // Opens a Store on this environment's database. Called again after the previous Store has
  // been destroyed, it must reach the same database (the durability case).
  virtual core::Result<std::unique_ptr<store::Store>> Open() = 0;
  // False when closing the Store discards the data (in-memory databases): the durability
  // case is skipped.
  virtual bool persistent() const = 0;
};

struct Backend {
  std::string name;  // becomes the test-name suffix: letters, digits, '_' only
  // nullptr when the backend is not available here (e.g. no PostgreSQL server configured):
  // every case then SKIPs with skip_reason, visibly, instead of passing.
  std::function<std::unique_ptr<BackendEnv>()> make_env;
  std::string skip_reason = {};
};

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) { return info.param.name; }
inline void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

class StoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  store::Store& s() { return *store_; }
  // Destroys the Store and opens a new one on the same database.
  void Reopen();

  // A new account (fresh uuid) with the given email, and its first token.
  store::Account NewAccount(const std::string& email, int64_t create_time_ms = 1000);
  store::Token NewToken(const std::string& account_id, const std::string& data = "data",
                        int64_t create_time_ms = 2000);
  // CreateAccount(NewAccount(email), first token) asserting success; returns the account.
  store::Account MustCreateAccount(const std::string& email, store::Token* first_token = nullptr);
  store::Token MustCreateToken(const std::string& account_id, const std::string& data = "data",
                               int64_t create_time_ms = 2000);

  // Persons, descriptors and lists (store_contract_storage.cpp), each asserting success.
  store::Person MustCreatePerson(const std::string& account_id, const std::string& user_data = "",
                                 std::optional<std::string> external_id = std::nullopt, int64_t create_time_ms = 3000);
  // A descriptor with distinctive values derived from `seed`.
  store::Descriptor NewDescriptor(const std::string& account_id, int64_t create_time_ms = 3000, float seed = 1.0f);
  store::Descriptor MustCreateDescriptor(const std::string& account_id, int64_t create_time_ms = 3000,
                                         float seed = 1.0f);
  store::List MustCreateList(const std::string& account_id, store::ListType type, const std::string& list_data = "",
                             int64_t create_time_ms = 3000);

  std::unique_ptr<BackendEnv> env_;
  std::unique_ptr<store::Store> store_;
};

}  // namespace store_testing
