// API.md §1–§2 behaviour common to every route: request ids, CORS, OPTIONS, 404/405,
// transport errors.
#include <regex>

#include "api_fixture.hpp"
#include "core/uuid.hpp"

namespace fptest {

class CrossCutting : public ApiTest {};

namespace {
std::string Concrete(const std::string& pattern) {
  std::string out = pattern;
  for (auto p = out.find("{thumb}"); p != std::string::npos; p = out.find("{thumb}")) out.replace(p, 7, "64");
  for (auto p = out.find("{id}"); p != std::string::npos; p = out.find("{id}"))
    out.replace(p, 4, core::NewUuid4());
  return out;
}
}  // namespace

TEST_F(CrossCutting, RequestIdEchoedOrGenerated) {
  const std::string good = "1536751345,8b8b5937-2e9c-4e8b-a7a7-5caf86621b5a";
  EXPECT_EQ(*Send("GET", "/version", "", {{"Luna-Request-Id", good}}).Header("Luna-Request-Id"), good);
  std::regex fmt("^[0-9]{10},[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (const char* bad : {"", "abc", "153675134,8b8b5937-2e9c-4e8b-a7a7-5caf86621b5a",
                          "1536751345,8b8b5937-2e9c-1e8b-a7a7-5caf86621b5a"}) {
    auto r = Send("GET", "/version", "", {{"Luna-Request-Id", bad}});
    ASSERT_NE(r.Header("Luna-Request-Id"), nullptr);
    EXPECT_NE(*r.Header("Luna-Request-Id"), bad);
    EXPECT_TRUE(std::regex_match(*r.Header("Luna-Request-Id"), fmt)) << *r.Header("Luna-Request-Id");
  }
  auto none = Send("GET", "/nope");  // errors carry it too
  EXPECT_TRUE(std::regex_match(*none.Header("Luna-Request-Id"), fmt));
}

TEST_F(CrossCutting, EveryRouteAnswersOptionsWithoutAuth) {
  for (const auto& route : api_->router().routes()) {
    auto r = Send("OPTIONS", Concrete(route.pattern));
    EXPECT_EQ(r.status, 200u) << route.pattern;
    ASSERT_NE(r.Header("Allow"), nullptr);
    EXPECT_NE(r.Header("Allow")->find(route.method), std::string::npos) << route.pattern;
    EXPECT_NE(r.Header("Allow")->find("OPTIONS"), std::string::npos);
    EXPECT_EQ(*r.Header("Access-Control-Allow-Origin"), "*");
    ASSERT_NE(r.Header("Access-Control-Allow-Headers"), nullptr);
    for (const char* h : {"Authorization", "X-Auth-Token", "Content-Type", "Luna-Request-Id"})
      EXPECT_NE(r.Header("Access-Control-Allow-Headers")->find(h), std::string::npos);
    EXPECT_NE(r.Header("Access-Control-Allow-Methods"), nullptr);
  }
  EXPECT_EQ(Send("OPTIONS", "/4/unknown").ErrorCode(), 12013);
}

TEST_F(CrossCutting, CorsOnEveryResponse) {
  for (const auto& r : {Send("GET", "/version"), Send("GET", "/nope"), Send("GET", "/4/account"),
                        Send("PUT", "/version")})
    EXPECT_EQ(*r.Header("Access-Control-Allow-Origin"), "*");
}

TEST_F(CrossCutting, UnknownPathAndWrongMethod) {
  for (const char* p : {"/", "/4", "/4/", "/4/storage/unknown", "/version/", "/4/account/tokens/xyz", "/5/account"}) {
    auto r = Send("GET", p);
    EXPECT_EQ(r.status, 404u) << p;
    EXPECT_EQ(r.ErrorCode(), 12013) << p;
    EXPECT_EQ(r.Json().at("detail").as_string(), "Page not found");
  }
  auto r = Send("DELETE", "/version");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.ErrorCode(), 12021);
  EXPECT_EQ(*r.Header("Allow"), "GET, OPTIONS");
  auto t = Send("PUT", "/4/account/tokens/" + core::NewUuid4());
  EXPECT_EQ(*t.Header("Allow"), "GET, PATCH, DELETE, OPTIONS");
}

TEST_F(CrossCutting, TransportErrorsBecomeErrorBodies) {
  http::Request big;
  big.transport_error = http::TransportError::BodyTooLarge;
  big.method = "POST";
  big.path = "/4/accounts";
  auto r = api_->Dispatch(big);
  EXPECT_EQ(r.status, 413u);
  EXPECT_NE(r.body.find("23001"), std::string::npos);
  EXPECT_NE(r.Header("Luna-Request-Id"), nullptr);
}

}  // namespace fptest
