// Family S: version, health check, configuration, OpenAPI document.
#include "api_fixture.hpp"

namespace fptest {

class Service : public ApiTest {};

TEST_F(Service, Version) {
  auto r = Send("GET", "/version");
  ASSERT_EQ(r.status, 200u);
  auto v = r.Json().at("Version").as_object();
  EXPECT_EQ(v.at("api").as_int64(), 4);
  EXPECT_EQ(v.at("version").as_string(), "1.2.3");
  EXPECT_EQ(v.at("major").as_int64(), 1);
}

TEST_F(Service, HealthcheckRedirectAndOk) {
  auto redirect = Send("GET", "/healthcheck");
  EXPECT_EQ(redirect.status, 301u);
  ASSERT_NE(redirect.Header("Location"), nullptr);
  EXPECT_EQ(*redirect.Header("Location"), "/4/healthcheck");
  EXPECT_EQ(*Send("GET", "/healthcheck?include_luna_services=1").Header("Location"),
            "/4/healthcheck?include_luna_services=1");
  auto ok = Send("GET", "/4/healthcheck");
  ASSERT_EQ(ok.status, 200u);
  EXPECT_TRUE(ok.Json().at("execution_time").is_number());
  EXPECT_EQ(Send("GET", "/4/healthcheck?include_luna_services=1").status, 200u);
  EXPECT_EQ(Send("GET", "/4/healthcheck?include_luna_services=2").ErrorCode(), 12012);
}

TEST_F(Service, HealthcheckNamesFailingModels) {
  api::ServiceInfo info;
  info.models_health = [] { return core::Status(core::Error(core::Errc::HealthCheckFailed, {}, "fr_feature")); };
  MakeApi(std::move(info));
  auto r = Send("GET", "/4/healthcheck");
  EXPECT_EQ(r.status, 502u);
  EXPECT_NE(r.body.find("models"), std::string::npos);
  EXPECT_NE(r.body.find("fr_feature"), std::string::npos);
  api::ServiceInfo none;  // no engine at all
  MakeApi(std::move(none));
  EXPECT_EQ(Send("GET", "/4/healthcheck").status, 502u);
}

TEST_F(Service, HealthcheckNamesFailingDatabase) {
  api::ServiceInfo info;
  info.database_health = [] { return core::Status(core::InternalError("database is locked")); };
  info.models_health = [] { return core::Status{}; };
  MakeApi(std::move(info));
  auto r = Send("GET", "/4/healthcheck");
  EXPECT_EQ(r.status, 502u);
  EXPECT_NE(r.body.find("database"), std::string::npos);
  EXPECT_EQ(r.body.find("locked"), std::string::npos);  // internal detail stays in the log
}

TEST_F(Service, ConfigJsonAndTextWithSecretsMasked) {
  auto j = Send("GET", "/4/config");
  ASSERT_EQ(j.status, 200u);
  EXPECT_EQ(j.Json().at("database_url").as_string(), "***");
  EXPECT_EQ(j.Json().at("port").as_int64(), 5000);
  EXPECT_EQ(j.Json().at("verbose").as_bool(), true);
  auto t = Send("GET", "/4/config", "", {{"Accept", "text/plain"}});
  EXPECT_EQ(t.status, 200u);
  EXPECT_NE(t.Header("Content-Type")->find("text/plain"), std::string::npos);
  EXPECT_NE(t.body.find("port = 5000"), std::string::npos);
}

TEST_F(Service, DocsSpecByAccept) {
  auto y = Send("GET", "/4/docs/spec", "", {{"Accept", "application/x-yaml"}});
  EXPECT_EQ(y.status, 200u);
  EXPECT_EQ(*y.Header("Content-Type"), "application/x-yaml");
  EXPECT_EQ(y.body, "openapi: 3.0.3\n");
  auto h = Send("GET", "/4/docs/spec", "", {{"Accept", "text/html,application/xhtml+xml;q=0.9"}});
  EXPECT_EQ(h.status, 200u);
  EXPECT_NE(h.body.find("<html>"), std::string::npos);
  for (http::Fields f : {http::Fields{}, http::Fields{{"Accept", "application/json"}}, http::Fields{{"Accept", "*/*"}}}) {
    auto r = Send("GET", "/4/docs/spec", "", f);
    EXPECT_EQ(r.status, 415u);
    EXPECT_EQ(r.ErrorCode(), 12024);
  }
}

TEST_F(Service, DocsDevRedirectsToTheManualPage) {
  api::ServiceInfo info;
  info.dev_manual_html = "<html>manual</html>";
  MakeApi(std::move(info));
  auto r = Send("GET", "/4/docs/dev");
  EXPECT_EQ(r.status, 301u);
  ASSERT_NE(r.Header("Location"), nullptr);
  EXPECT_EQ(*r.Header("Location"), "/docs/dev/index.html");
  EXPECT_TRUE(r.body.empty());
  auto page = Send("GET", "/docs/dev/index.html");
  EXPECT_EQ(page.status, 200u);
  EXPECT_EQ(*page.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.body, "<html>manual</html>");
  EXPECT_EQ(Send("POST", "/4/docs/dev").status, 405u);
}

}  // namespace fptest
