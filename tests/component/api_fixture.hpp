#pragma once
// Component-test fixture: the real api::Api and router over a real SQLite file in a fresh
// temporary directory; requests are dispatched in-process (no sockets).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "api/api.hpp"
#include "api/index_follower.hpp"
#include "store/store.hpp"

namespace fptest {

struct Reply {
  unsigned status = 0;
  http::Fields headers;
  std::string body;
  const std::string* Header(std::string_view n) const;
  boost::json::object Json() const;
  int ErrorCode() const;  // error_code of an error body, -1 otherwise
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Rebuilds the Api with other service info (health probe, config).
  void MakeApi(api::ServiceInfo info, api::AuthOptions auth = TestAuthOptions());
  // For the fixtures over the real face engine: sets engine_ and a portrait store under dir_,
  // with `matching` also an index follower loaded from store_, and rebuilds the Api with
  // healthy models. Fatal test failure when the portraits or the index cannot be opened.
  void UseFaceEngine(face::Engine& engine, bool matching);
  static api::AuthOptions TestAuthOptions();

  Reply Send(const std::string& method, const std::string& target, const std::string& body = "",
             http::Fields headers = {}, const std::string& remote = "127.0.0.1");
  Reply SendJson(const std::string& method, const std::string& target, const boost::json::value& body,
                 http::Fields headers = {});
  // Registers an account and returns its first token.
  std::string Register(const std::string& email, const std::string& password = "password1");
  static http::Fields Basic(const std::string& email, const std::string& password = "password1");
  static http::Fields Token(const std::string& token);

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<api::Authenticator> auth_;
  std::unique_ptr<api::Api> api_;
  face::Engine* engine_ = nullptr;                      // set by fixtures that need faces
  std::unique_ptr<store::PortraitStore> portraits_;
  api::IndexFollower* follower_ = nullptr;              // set by fixtures that match
  std::unique_ptr<api::IndexFollower> follower_owner_;  // UseFaceEngine's follower
};

}  // namespace fptest
