// Family A through the real router and a real SQLite file: every success case and every
// error code listed for each endpoint, plus tenant isolation.
#include "api_fixture.hpp"
#include "core/uuid.hpp"

namespace fptest {
namespace json = boost::json;

class Accounts : public ApiTest {};

TEST_F(Accounts, RegisterReturnsWorkingToken) {
  auto token = Register("Alice@Example.com");
  EXPECT_TRUE(core::IsUuid4(token));
  auto r = Send("GET", "/4/account/tokens/" + token, "", Token(token));
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("token_data").as_string(), "");
}

TEST_F(Accounts, RegisterValidation) {
  auto reg = [&](json::object o) { return SendJson("POST", "/4/accounts", o); };
  json::object good{{"organization_name", "o"}, {"email", "a@b.cd"}, {"password", "12345678"}};
  auto without = [&](const char* k) { auto o = good; o.erase(k); return o; };
  for (const char* k : {"organization_name", "email", "password"}) {
    auto r = reg(without(k));
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(r.ErrorCode(), 12022);
    EXPECT_NE(r.Json().at("detail").as_string().find(std::string("Path: '") + k + "'"), std::string::npos) << r.body;
  }
  auto o = good;
  o["email"] = "nope";
  EXPECT_EQ(reg(o).ErrorCode(), 12022);
  o = good;
  o["email"] = std::string(60, 'a') + "@b.cd";  // 65 characters
  EXPECT_EQ(reg(o).ErrorCode(), 12022);
  o = good;
  o["password"] = "short";
  EXPECT_EQ(reg(o).Json().at("detail").as_string(),
            "Failed to validate input json. Path: 'password', message: 'password must be longer than or equal to 8 "
            "characters'");
  o["password"] = std::string(33, 'p');
  EXPECT_EQ(reg(o).ErrorCode(), 12022);
  o = good;
  o["organization_name"] = std::string(129, 'o');
  EXPECT_EQ(reg(o).ErrorCode(), 12022);
  o = good;
  o["organization_name"] = 5;
  EXPECT_EQ(reg(o).ErrorCode(), 12022);
  EXPECT_EQ(Send("POST", "/4/accounts", "{", {{"Content-Type", "application/json"}}).ErrorCode(), 12002);
  EXPECT_EQ(Send("POST", "/4/accounts", json::serialize(good)).ErrorCode(), 12017);
  EXPECT_EQ(Send("POST", "/4/accounts", json::serialize(good), {{"Content-Type", "text/plain"}}).ErrorCode(), 12017);
}

TEST_F(Accounts, DuplicateEmailIsCaseInsensitive409) {
  Register("bob@example.com");
  auto r = SendJson("POST", "/4/accounts",
                    json::object{{"organization_name", "o"}, {"email", "BOB@example.com"}, {"password", "12345678"}});
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(r.ErrorCode(), 11011);
}

TEST_F(Accounts, GetAccountIsBasicOnly) {
  auto token = Register("carol@example.com");
  auto r = Send("GET", "/4/account", "", Basic("CAROL@example.com"));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto o = r.Json();
  EXPECT_EQ(o.at("email").as_string(), "carol@example.com");
  EXPECT_EQ(o.at("organization_name").as_string(), "org");
  EXPECT_EQ(o.at("suspended").as_bool(), false);
  EXPECT_EQ(o.size(), 3u);

  auto t = Send("GET", "/4/account", "", Token(token));
  EXPECT_EQ(t.status, 401u);
  EXPECT_EQ(t.ErrorCode(), 12010);
  EXPECT_NE(t.body.find("\\\"Authorization\\\""), std::string::npos) << t.body;
  EXPECT_NE(t.Header("WWW-Authenticate"), nullptr);

  auto none = Send("GET", "/4/account");
  EXPECT_EQ(none.ErrorCode(), 12010);
  EXPECT_EQ(Send("GET", "/4/account", "", Basic("carol@example.com", "wrong-pass")).ErrorCode(), 11002);
  EXPECT_EQ(Send("GET", "/4/account", "", Basic("nobody@example.com")).ErrorCode(), 11002);
  EXPECT_EQ(Send("GET", "/4/account", "", {{"Authorization", "Basic !!!"}}).ErrorCode(), 12010);
  EXPECT_EQ(Send("GET", "/4/account", "", {{"Authorization", "Bearer abc"}}).ErrorCode(), 12010);
  EXPECT_EQ(Send("GET", "/4/account", "", {{"authorization", "bAsIc " + Basic("carol@example.com")[0].second.substr(6)}}).status,
            200u);
}

TEST_F(Accounts, TokenAuthErrors) {
  Register("dave@example.com");
  auto target = "/4/account/tokens/" + core::NewUuid4();
  EXPECT_EQ(Send("GET", target, "", Token("not-a-uuid")).ErrorCode(), 12001);
  EXPECT_EQ(Send("GET", target, "", Token("not-a-uuid")).status, 401u);
  EXPECT_EQ(Send("GET", target, "", Token(core::NewUuid4())).ErrorCode(), 11002);
  auto none = Send("GET", target);
  EXPECT_EQ(none.ErrorCode(), 12010);
  EXPECT_NE(none.body.find("X-Auth-Token or Authorization"), std::string::npos);
}

TEST_F(Accounts, TokenIsCheckedBeforeBasic) {
  auto token = Register("erin@example.com");
  auto h = Token(token);
  h.emplace_back("Authorization", Basic("erin@example.com", "wrong-password")[0].second);
  EXPECT_EQ(Send("GET", "/4/account/tokens/" + token, "", h).status, 200u);
  auto bad = Token(core::NewUuid4());
  bad.emplace_back("Authorization", Basic("erin@example.com")[0].second);
  EXPECT_EQ(Send("GET", "/4/account/tokens/" + token, "", bad).ErrorCode(), 11002);
}

TEST_F(Accounts, TokenLifecycle) {
  Register("frank@example.com");
  auto basic = Basic("frank@example.com");
  auto created = SendJson("POST", "/4/account/tokens", json::object{{"token_data", "ci runner"}}, basic);
  ASSERT_EQ(created.status, 201u) << created.body;
  std::string t = std::string(created.Json().at("token").as_string());

  auto got = Send("GET", "/4/account/tokens/" + t, "", Token(t));
  EXPECT_EQ(got.Json().at("token_data").as_string(), "ci runner");

  EXPECT_EQ(SendJson("PATCH", "/4/account/tokens/" + t, json::object{{"token_data", "renamed"}}, Token(t)).status, 204u);
  EXPECT_EQ(Send("GET", "/4/account/tokens/" + t, "", basic).Json().at("token_data").as_string(), "renamed");
  EXPECT_EQ(SendJson("PATCH", "/4/account/tokens/" + t, json::object{}, basic).ErrorCode(), 12022);
  EXPECT_EQ(SendJson("PATCH", "/4/account/tokens/" + t, json::object{{"token_data", 3}}, basic).Json().at("detail"),
            "Failed to validate input json. Path: 'token_data', message: 'token_data must be string'");
  EXPECT_EQ(SendJson("PATCH", "/4/account/tokens/" + core::NewUuid4(), json::object{{"token_data", "x"}}, basic)
                .ErrorCode(),
            11022);
  EXPECT_EQ(SendJson("POST", "/4/account/tokens", json::object{{"token_data", std::string(129, 'x')}}, basic)
                .ErrorCode(),
            12022);
  EXPECT_EQ(SendJson("POST", "/4/account/tokens", json::object{{"token_data", "x"}}, Token(t)).ErrorCode(), 12010);
  EXPECT_EQ(SendJson("POST", "/4/account/tokens", json::object{}, basic).ErrorCode(), 12022);  // required

  // Delete one: refused on the very next request.
  EXPECT_EQ(Send("DELETE", "/4/account/tokens/" + t, "", basic).status, 204u);
  EXPECT_EQ(Send("GET", "/4/account/tokens/" + t, "", Token(t)).ErrorCode(), 11002);
  auto again = Send("DELETE", "/4/account/tokens/" + t, "", basic);
  EXPECT_EQ(again.status, 404u);
  EXPECT_EQ(again.ErrorCode(), 11022);
  EXPECT_EQ(Send("GET", "/4/account/tokens/" + t, "", basic).ErrorCode(), 11022);
  EXPECT_EQ(Send("GET", "/4/account/tokens/not-a-uuid", "", basic).ErrorCode(), 12013);
}

TEST_F(Accounts, ListIsPagedWithTotalCount) {
  std::string first = Register("gina@example.com");
  auto basic = Basic("gina@example.com");
  std::vector<std::string> ids{first};
  for (int i = 0; i < 4; ++i) {
    auto r = SendJson("POST", "/4/account/tokens", json::object{{"token_data", "t" + std::to_string(i)}}, basic);
    ids.emplace_back(r.Json().at("token").as_string());
  }
  auto page = Send("GET", "/4/account/tokens?page=2&page_size=2", "", basic);
  ASSERT_EQ(page.status, 200u);
  auto o = page.Json();
  EXPECT_EQ(o.at("count").as_int64(), 5);
  auto arr = o.at("tokens").as_array();
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[0].at("id").as_string(), ids[2]);  // oldest first
  EXPECT_EQ(arr[1].at("token_data").as_string(), "t2");
  EXPECT_EQ(Send("GET", "/4/account/tokens", "", basic).Json().at("tokens").as_array().size(), 5u);
  EXPECT_EQ(Send("GET", "/4/account/tokens?page=9", "", basic).Json().at("tokens").as_array().size(), 0u);
  auto bad = Send("GET", "/4/account/tokens?page_size=1001", "", basic);
  EXPECT_EQ(bad.ErrorCode(), 12012);
  EXPECT_EQ(bad.Json().at("detail").as_string(), "Bad query parameters 'page_size'");
  EXPECT_EQ(Send("GET", "/4/account/tokens?page=0", "", basic).ErrorCode(), 12012);
  EXPECT_EQ(Send("GET", "/4/account/tokens", "", Token(first)).ErrorCode(), 12010);
}

TEST_F(Accounts, DeleteManyTokens) {
  std::string first = Register("hank@example.com");
  auto basic = Basic("hank@example.com");
  auto mk = [&] {
    return std::string(
        SendJson("POST", "/4/account/tokens", json::object{{"token_data", ""}}, basic).Json().at("token").as_string());
  };
  auto t2 = mk();
  auto t3 = mk();
  auto r = SendJson("DELETE", "/4/account/tokens", json::object{{"tokens", json::array{first, t2, core::NewUuid4()}}},
                    basic);
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_EQ(Send("GET", "/4/account/tokens/" + t3, "", Token(first)).ErrorCode(), 11002);
  EXPECT_EQ(Send("GET", "/4/account/tokens/" + t3, "", Token(t3)).status, 200u);
  auto bad = SendJson("DELETE", "/4/account/tokens", json::object{{"tokens", json::array{t3, "x"}}}, basic);
  EXPECT_EQ(bad.Json().at("detail").as_string(),
            "Failed to validate input json. Path: 'tokens[1]', message: 'tokens[1] must match pattern "
            "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}'");
  EXPECT_EQ(SendJson("DELETE", "/4/account/tokens", json::object{}, basic).ErrorCode(), 12022);
  EXPECT_EQ(SendJson("DELETE", "/4/account/tokens", json::object{{"tokens", "x"}}, basic).ErrorCode(), 12022);
  EXPECT_EQ(Send("GET", "/4/account/tokens/" + t3, "", Token(t3)).status, 200u);  // nothing deleted by bad bodies
}

TEST_F(Accounts, SuspendedAccountIsRefusedEvenWithCachedLogin) {
  auto token = Register("ivan@example.com");
  auto basic = Basic("ivan@example.com");
  ASSERT_EQ(Send("GET", "/4/account", "", basic).status, 200u);  // cached now
  ASSERT_TRUE(*store_->SetAccountSuspended("ivan@example.com", true));
  auto r = Send("GET", "/4/account", "", basic);
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(r.ErrorCode(), 11004);
  EXPECT_EQ(Send("GET", "/4/account/tokens/" + token, "", Token(token)).ErrorCode(), 11004);
  ASSERT_TRUE(*store_->SetAccountSuspended("ivan@example.com", false));
  EXPECT_EQ(Send("GET", "/4/account/tokens/" + token, "", Token(token)).status, 200u);
}

TEST_F(Accounts, FailedLoginsAreRateLimitedPerAccount) {
  Register("jane@example.com");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(Send("GET", "/4/account", "", Basic("jane@example.com", "wrong-" + std::to_string(i))).status, 401u);
  auto limited = Send("GET", "/4/account", "", Basic("jane@example.com"), "10.0.0.9");
  EXPECT_EQ(limited.status, 429u);
  EXPECT_EQ(limited.ErrorCode(), 11002);
  ASSERT_NE(limited.Header("Retry-After"), nullptr);
  EXPECT_EQ(*limited.Header("Retry-After"), "60");
  // Another account from another address is not affected.
  Register("kate@example.com");
  EXPECT_EQ(Send("GET", "/4/account", "", Basic("kate@example.com"), "10.0.0.10").status, 200u);
}

TEST_F(Accounts, FailedLoginsAreRateLimitedPerAddress) {
  Register("leo@example.com");
  for (int i = 0; i < 5; ++i)
    Send("GET", "/4/account", "", Basic("user" + std::to_string(i) + "@example.com"), "192.0.2.1");
  EXPECT_EQ(Send("GET", "/4/account", "", Basic("leo@example.com"), "192.0.2.1").status, 429u);
  EXPECT_EQ(Send("GET", "/4/account", "", Basic("leo@example.com"), "192.0.2.2").status, 200u);
}

TEST_F(Accounts, TenantIsolation) {
  auto a = Register("owner@example.com");
  auto a2 = std::string(
      SendJson("POST", "/4/account/tokens", json::object{{"token_data", "a2"}}, Basic("owner@example.com"))
          .Json()
          .at("token")
          .as_string());
  auto b = Register("intruder@example.com");
  auto unknown = core::NewUuid4();
  for (const auto& id : {a, a2}) {
    for (const auto& auth : {Token(b), Basic("intruder@example.com")}) {
      auto as_unknown = Send("GET", "/4/account/tokens/" + unknown, "", auth);
      auto get = Send("GET", "/4/account/tokens/" + id, "", auth);
      EXPECT_EQ(get.status, as_unknown.status);
      EXPECT_EQ(get.body, as_unknown.body);
      EXPECT_EQ(get.ErrorCode(), 11022);
      auto patch = SendJson("PATCH", "/4/account/tokens/" + id, json::object{{"token_data", "pwned"}}, auth);
      EXPECT_EQ(patch.ErrorCode(), 11022);
      EXPECT_EQ(Send("DELETE", "/4/account/tokens/" + id, "", auth).ErrorCode(), 11022);
    }
  }
  EXPECT_EQ(SendJson("DELETE", "/4/account/tokens", json::object{{"tokens", json::array{a, a2}}},
                     Basic("intruder@example.com"))
                .status,
            204u);
  auto list_b = Send("GET", "/4/account/tokens", "", Basic("intruder@example.com")).Json();
  EXPECT_EQ(list_b.at("count").as_int64(), 1);
  EXPECT_EQ(list_b.at("tokens").as_array()[0].at("id").as_string(), b);
  // A's tokens are intact.
  EXPECT_EQ(Send("GET", "/4/account/tokens/" + a2, "", Token(a)).Json().at("token_data").as_string(), "a2");
  EXPECT_EQ(Send("GET", "/4/account/tokens", "", Basic("owner@example.com")).Json().at("count").as_int64(), 2);
}

}  // namespace fptest
