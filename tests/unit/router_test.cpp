#include <gtest/gtest.h>

#include "http/router.hpp"

namespace {
http::Response Tag(std::string t) {
  http::Response r;
  r.body = std::move(t);
  return r;
}
http::Router MakeRouter() {
  http::Router r;
  r.Add("GET", "/4/account/tokens", [](http::Request&) { return Tag("list"); });
  r.Add("POST", "/4/account/tokens", [](http::Request&) { return Tag("create"); });
  r.Add("GET", "/4/account/tokens/{id}", [](http::Request&) { return Tag("get"); });
  r.Add("DELETE", "/4/account/tokens/{id}", [](http::Request&) { return Tag("delete"); });
  return r;
}
http::Request Req(std::string method, std::string path) {
  http::Request q;
  q.method = std::move(method);
  q.path = std::move(path);
  return q;
}
}  // namespace

TEST(Router, MatchesMethodAndPath) {
  auto r = MakeRouter();
  auto q = Req("POST", "/4/account/tokens");
  auto m = r.Find(q);
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->handler(q).body, "create");
}

TEST(Router, CapturesUuidParams) {
  auto r = MakeRouter();
  auto q = Req("GET", "/4/account/tokens/b668c4a5-2191-476e-a261-3b4f9ce2e25e");
  auto m = r.Find(q);
  ASSERT_NE(m.route, nullptr);
  ASSERT_EQ(q.path_params.size(), 1u);
  EXPECT_EQ(q.path_params[0], "b668c4a5-2191-476e-a261-3b4f9ce2e25e");
}

TEST(Router, NonUuidSegmentIsUnknownPath) {
  auto r = MakeRouter();
  for (const char* p : {"/4/account/tokens/123", "/4/account/tokens/B668C4A5-2191-476E-A261-3B4F9CE2E25E",
                        "/4/account/tokens/", "/4/account/tokens/b668c4a5-2191-476e-a261-3b4f9ce2e25e/x",
                        "/4/account", "/", ""}) {
    auto q = Req("GET", p);
    auto m = r.Find(q);
    EXPECT_FALSE(m.path_known) << p;
    EXPECT_EQ(m.route, nullptr) << p;
  }
}

TEST(Router, ThumbnailSegments) {
  http::Router r;
  r.Add("GET", "/p/{id}_{thumb}", [](http::Request&) { return Tag("thumb"); });
  auto ok = Req("GET", "/p/b668c4a5-2191-476e-a261-3b4f9ce2e25e_96");
  ASSERT_NE(r.Find(ok).route, nullptr);
  EXPECT_EQ(ok.path_params, (std::vector<std::string>{"b668c4a5-2191-476e-a261-3b4f9ce2e25e", "96"}));
  for (const char* p : {"/p/b668c4a5-2191-476e-a261-3b4f9ce2e25e_33", "/p/b668c4a5-2191-476e-a261-3b4f9ce2e25e_",
                        "/p/b668c4a5-2191-476e-a261-3b4f9ce2e25e", "/p/x_32"}) {
    auto q = Req("GET", p);
    EXPECT_FALSE(r.Find(q).path_known) << p;
  }
}

TEST(Router, WrongMethodGivesAllow) {
  auto r = MakeRouter();
  auto q = Req("PATCH", "/4/account/tokens");
  auto m = r.Find(q);
  EXPECT_TRUE(m.path_known);
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "GET, POST, OPTIONS");
}

TEST(Router, LookupFindsTheSameRouteAsFindWithoutParams) {
  auto r = MakeRouter();
  auto q = Req("GET", "/4/account/tokens/b668c4a5-2191-476e-a261-3b4f9ce2e25e");
  const auto* found = r.Find(q).route;
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(r.Lookup("GET", q.path), found);
  EXPECT_EQ(r.Lookup("PATCH", "/4/account/tokens"), nullptr);
  EXPECT_EQ(r.Lookup("GET", "/4/account/tokens/123"), nullptr);
}
