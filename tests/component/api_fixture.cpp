#include "api_fixture.hpp"

#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "core/base64.hpp"
#include "http/message.hpp"
#include "pg_testdb.hpp"
#include "store/pg_store.hpp"
#include "store/sqlite_store.hpp"

namespace fptest {

const std::string* Reply::Header(std::string_view n) const {
  for (const auto& [k, v] : headers)
    if (http::IEquals(k, n)) return &v;
  return nullptr;
}

boost::json::object Reply::Json() const { return boost::json::parse(body).as_object(); }

int Reply::ErrorCode() const {
  boost::json::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("error_code")) return -1;
  return static_cast<int>(v.as_object().at("error_code").as_int64());
}

api::AuthOptions ApiTest::TestAuthOptions() {
  api::AuthOptions o;
  o.pwhash_opslimit = 1;     // argon2id minimum cost: the tests are about behaviour, not cost
  o.pwhash_memlimit = 8192;
  o.max_failures = 5;
  return o;
}

void ApiTest::SetUp() {
  char tmpl[] = "/tmp/fp_component_XXXXXX";
  dir_ = mkdtemp(tmpl);
  // FACEPORT_TEST_BACKEND=postgresql: the same cases on a fresh PostgreSQL database.
  const char* backend = std::getenv("FACEPORT_TEST_BACKEND");
  core::Result<std::unique_ptr<store::Store>> st = core::InternalError("no store");
  if (backend != nullptr && std::string_view(backend) == "postgresql") {
    auto url = FreshPgDatabase();
    if (!url) GTEST_SKIP() << kPgSkipReason;
    st = store::OpenPgStore({*url, 4});
  } else {
    store::SqliteOptions so;
    so.path = dir_ + "/faceport.db";
    st = store::OpenSqliteStore(so);
  }
  ASSERT_TRUE(st) << st.error().log_detail;
  store_ = std::move(*st);
  api::ServiceInfo info;
  info.version = "1.2.3";
  info.config = {{"port", "5000", core::SettingType::Int},
                 {"database_url", "***", core::SettingType::String},
                 {"verbose", "true", core::SettingType::Bool}};
  info.models_health = [] { return core::Status{}; };
  info.openapi_yaml = "openapi: 3.0.3\n";
  info.openapi_html = "<html>spec</html>";
  MakeApi(std::move(info));
}

void ApiTest::MakeApi(api::ServiceInfo info, api::AuthOptions auth) {
  api_.reset();
  auth_ = std::make_unique<api::Authenticator>(*store_, auth);
  api_ = std::make_unique<api::Api>(*store_, *auth_, api::ApiOptions{}, std::move(info), engine_, portraits_.get(), follower_);
}

void ApiTest::UseFaceEngine(face::Engine& engine, bool matching) {
  engine_ = &engine;
  portraits_ = std::make_unique<store::PortraitStore>(dir_ + "/portraits");
  ASSERT_TRUE(portraits_->Open());
  if (matching) {
    follower_owner_ = std::make_unique<api::IndexFollower>(
        *store_, api::IndexFollowerOptions{engine.descriptor_size(), 10000, 100000});
    ASSERT_TRUE(follower_owner_->Load());
    follower_ = follower_owner_.get();
  }
  api::ServiceInfo info;
  info.models_health = [] { return core::Status{}; };
  MakeApi(std::move(info));
}

void ApiTest::TearDown() {
  api_.reset();
  follower_owner_.reset();
  follower_ = nullptr;
  auth_.reset();
  portraits_.reset();
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Reply ApiTest::Send(const std::string& method, const std::string& target, const std::string& body,
                    http::Fields headers, const std::string& remote) {
  http::Request req;
  req.method = method;
  req.target = target;
  auto q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) req.query = http::ParseQuery(target.substr(q + 1));
  req.headers = std::move(headers);
  req.body = body;
  req.remote_address = remote;
  auto res = api_->Dispatch(req);
  return Reply{res.status, res.headers, res.body};
}

Reply ApiTest::SendJson(const std::string& method, const std::string& target, const boost::json::value& body,
                        http::Fields headers) {
  headers.emplace_back("Content-Type", "application/json");
  return Send(method, target, boost::json::serialize(body), std::move(headers));
}

std::string ApiTest::Register(const std::string& email, const std::string& password) {
  auto r = SendJson("POST", "/4/accounts",
                    boost::json::object{{"organization_name", "org"}, {"email", email}, {"password", password}});
  EXPECT_EQ(r.status, 201u) << r.body;
  return std::string(r.Json().at("token").as_string());
}

http::Fields ApiTest::Basic(const std::string& email, const std::string& password) {
  return {{"Authorization", "Basic " + core::Base64Encode(email + ":" + password)}};
}

http::Fields ApiTest::Token(const std::string& token) { return {{"X-Auth-Token", token}}; }

}  // namespace fptest
