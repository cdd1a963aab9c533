#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/json_schema.hpp"

namespace s = api::schema;

namespace {
std::pair<std::string, std::string> Fails(const s::NodePtr& schema, const char* json) {
  auto st = s::Validate(*schema, boost::json::parse(json));
  if (st) return {"<ok>", ""};
  EXPECT_EQ(st.error().code, core::Errc::JsonValidation);
  return {st.error().args.at(0), st.error().args.at(1)};
}
const s::NodePtr kAccount = s::Object({
    {"organization_name", s::String({}, 128), true},
    {"email", s::String({}, 64, s::Format::Email), true},
    {"password", s::String(8, 32), true},
});
}  // namespace

TEST(JsonSchema, AcceptsValid) {
  EXPECT_EQ(Fails(kAccount, R"({"organization_name":"o","email":"a@b.cd","password":"12345678"})").first, "<ok>");
}

TEST(JsonSchema, WrongTypes) {
  EXPECT_EQ(Fails(kAccount, R"({"organization_name":1,"email":"a@b.cd","password":"12345678"})"),
            (std::pair<std::string, std::string>{"organization_name", "organization_name must be string"}));
  EXPECT_EQ(Fails(kAccount, "[1]"), (std::pair<std::string, std::string>{"data", "data must be object"}));
  EXPECT_EQ(Fails(s::Object({{"lists", s::Array(s::Uuid4()), true}}), R"({"lists":"x"})"),
            (std::pair<std::string, std::string>{"lists", "lists must be array"}));
  EXPECT_EQ(Fails(s::Object({{"n", s::Integer(), true}}), R"({"n":1.5})").second, "n must be integer");
  EXPECT_EQ(Fails(s::Object({{"n", s::Integer(), true}}), R"({"n":2.0})").first, "<ok>");
}

TEST(JsonSchema, MissingRequiredAndUnknownProperties) {
  EXPECT_EQ(Fails(kAccount, R"({"organization_name":"o","password":"12345678"})"),
            (std::pair<std::string, std::string>{"email", "email is a required property"}));
  EXPECT_EQ(Fails(kAccount, R"({"organization_name":"o","email":"a@b.cd","password":"12345678","x":1})"),
            (std::pair<std::string, std::string>{"x", "x is not an allowed property"}));
}

TEST(JsonSchema, Lengths) {
  std::string long_name(129, 'a');
  EXPECT_EQ(Fails(kAccount, (R"({"organization_name":")" + long_name + R"(","email":"a@b.cd","password":"12345678"})").c_str())
                .second,
            "organization_name must be shorter than or equal to 128 characters");
  EXPECT_EQ(Fails(kAccount, R"({"organization_name":"o","email":"a@b.cd","password":"1234567"})").second,
            "password must be longer than or equal to 8 characters");
  // Lengths count characters, not bytes: 128 two-byte characters are fine.
  std::string utf8;
  for (int i = 0; i < 128; ++i) utf8 += "\xc3\xa9";
  EXPECT_EQ(Fails(kAccount, (R"({"organization_name":")" + utf8 + R"(","email":"a@b.cd","password":"12345678"})").c_str())
                .first,
            "<ok>");
}

TEST(JsonSchema, PatternsAndArrayItems) {
  auto schema = s::Object({{"tokens", s::Array(s::Uuid4()), true}});
  EXPECT_EQ(Fails(schema, R"({"tokens":["b668c4a5-2191-476e-a261-3b4f9ce2e25e","nope"]})"),
            (std::pair<std::string, std::string>{
                "tokens[1]",
                "tokens[1] must match pattern [a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"}));
  EXPECT_EQ(Fails(schema, R"({"tokens":[1]})").second, "tokens[0] must be string");
  EXPECT_EQ(Fails(s::Object({{"a", s::Array(s::Integer(), 1, 2), true}}), R"({"a":[]})").second,
            "a must contain at least 1 items");
  EXPECT_EQ(Fails(s::Object({{"a", s::Array(s::Integer(), 1, 2), true}}), R"({"a":[1,2,3]})").second,
            "a must contain less than or equal to 2 items");
}

TEST(JsonSchema, NestedPathsEnumsRangesEmail) {
  auto schema = s::Object({{"policy", s::Object({{"limit", s::Integer(1, 5), false},
                                                 {"mode", s::Enum({"a", "b"}), false}}),
                            true}});
  EXPECT_EQ(Fails(schema, R"({"policy":{"limit":9}})"),
            (std::pair<std::string, std::string>{"policy.limit", "policy.limit must be smaller than or equal to 5"}));
  EXPECT_EQ(Fails(schema, R"({"policy":{"mode":"c"}})").second, "policy.mode must be one of ['a', 'b']");
  EXPECT_EQ(Fails(kAccount, R"({"organization_name":"o","email":"not-an-email","password":"12345678"})").second,
            "email must be email");
  EXPECT_EQ(Fails(s::Object({}, 1), "{}").second, "data must contain at least 1 properties");
}

TEST(JsonSchema, EmailRules) {
  EXPECT_TRUE(s::IsEmail("user.name+tag@example.co.uk"));
  EXPECT_FALSE(s::IsEmail("a@b"));
  EXPECT_FALSE(s::IsEmail("@b.cd"));
  EXPECT_FALSE(s::IsEmail("a@@b.cd"));
  EXPECT_FALSE(s::IsEmail("a b@c.de"));
  EXPECT_FALSE(s::IsEmail("a@b..cd"));
}

TEST(JsonSchema, ParseBodyChecksContentTypeAndJson) {
  http::Request r;
  r.body = "{}";
  auto schema = s::Object({});
  EXPECT_EQ(s::ParseBody(r, *schema).error().code, core::Errc::BadContentType);
  r.headers = {{"content-type", "text/plain"}};
  EXPECT_EQ(s::ParseBody(r, *schema).error().code, core::Errc::BadContentType);
  r.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  EXPECT_TRUE(s::ParseBody(r, *schema));
  r.body = "{not json";
  EXPECT_EQ(s::ParseBody(r, *schema).error().code, core::Errc::NoJson);
  r.body = "";
  EXPECT_EQ(s::ParseBody(r, *schema).error().code, core::Errc::NoJson);
  r.body = std::string(100, '[') + std::string(100, ']');  // nesting bomb
  EXPECT_EQ(s::ParseBody(r, *schema).error().code, core::Errc::NoJson);
}

TEST(JsonSchema, NulCharactersAreRefusedInEveryString) {
  EXPECT_EQ(Fails(kAccount, R"({"organization_name":"a\u0000b","email":"a@b.cd","password":"12345678"})"),
            (std::pair<std::string, std::string>{"organization_name",
                                                 "organization_name must not contain the NUL character"}));
  // Except in strings that carry bytes (verify/raw's msgpack bin descriptors).
  EXPECT_EQ(Fails(s::Object({{"data", s::Bytes(), true}}), R"({"data":"a\u0000b"})").first, "<ok>");
}
