#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "api/errors.hpp"

TEST(ErrorTable, EveryKindHasExactlyOneRow) {
  std::map<int, int> rows;
  for (const auto& r : api::ErrorTable()) rows[static_cast<int>(r.kind)]++;
  for (int k = 0; k < core::kErrcCount; ++k) {
    EXPECT_EQ(rows[k], 1) << "kind " << core::ErrcName(static_cast<core::Errc>(k));
  }
  EXPECT_EQ(api::ErrorTable().size(), static_cast<std::size_t>(core::kErrcCount));
}

TEST(ErrorTable, RowsUseValidHttpStatusesAndFilledTemplates) {
  for (const auto& r : api::ErrorTable()) {
    EXPECT_GE(r.http_status, 400u);
    EXPECT_LT(r.http_status, 600u);
    EXPECT_FALSE(r.detail_template.empty());
  }
}

TEST(ErrorTable, KnownRowsMatchTheContract) {
  auto check = [](core::Errc k, int code, unsigned status) {
    const auto& r = api::RowFor(k);
    EXPECT_EQ(r.error_code, code) << core::ErrcName(k);
    EXPECT_EQ(r.http_status, status) << core::ErrcName(k);
  };
  check(core::Errc::BadCredentials, 11002, 401);
  check(core::Errc::AccountSuspended, 11004, 403);
  check(core::Errc::EmailExists, 11011, 409);
  check(core::Errc::TokenNotFound, 11022, 404);
  check(core::Errc::AuthTokenNotUuid, 12001, 401);
  check(core::Errc::NoAuthHeaders, 12010, 401);
  check(core::Errc::PageNotFound, 12013, 404);
  check(core::Errc::MethodNotAllowed, 12021, 405);
  check(core::Errc::JsonValidation, 12022, 400);
  check(core::Errc::BodyTooLarge, 23001, 413);
}

TEST(ErrorResponse, BodyShapeAndWwwAuthenticate) {
  auto r = api::ErrorResponse(core::Error(core::Errc::NoAuthHeaders, {"X-Auth-Token or Authorization"}));
  EXPECT_EQ(r.status, 401u);
  ASSERT_NE(r.Header("WWW-Authenticate"), nullptr);
  EXPECT_EQ(*r.Header("Content-Type"), "application/json");
  auto v = boost::json::parse(r.body).as_object();
  EXPECT_EQ(v.at("error_code").as_int64(), 12010);
  EXPECT_EQ(v.at("detail").as_string(), "This resource need \"X-Auth-Token or Authorization\" authorization headers");
  EXPECT_EQ(v.size(), 2u);
}

TEST(ErrorResponse, InternalDetailNeverLeaks) {
  auto r = api::ErrorResponse(core::InternalError("sqlite: disk I/O error at /secret/path"));
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_NE(r.body.find("internal server error"), std::string::npos);
}

TEST(ErrorResponse, TemplatesAreFilledInOrder) {
  auto r = api::ErrorResponse(core::Error(core::Errc::JsonValidation, {"tokens[1]", "tokens[1] must be string"}));
  auto v = boost::json::parse(r.body).as_object();
  EXPECT_EQ(v.at("detail").as_string(),
            "Failed to validate input json. Path: 'tokens[1]', message: 'tokens[1] must be string'");
}
