// Family H, the handler resources (GET/PATCH /4/handlers/{extractor|verify|identify}) through
// the real router and a real SQLite file: defaults at account creation, validation, version
// bumps, list checks and tenant isolation. The POST pipelines are in handler_pipelines_test.cpp;
// concurrent PATCHes through the real binary in tests/e2e.
#include <set>

#include "core/uuid.hpp"
#include "face/similarity.hpp"
#include "storage_helpers.hpp"

namespace fptest {
namespace json = boost::json;

namespace {
const std::vector<std::string> kTypes = {"extractor", "verify", "identify"};

// The documented defaults (docs/HANDLERS.md).
json::object Defaults(const std::string& type) {
  json::object o;
  if (type != "verify") o["list_id"] = nullptr;
  if (type == "identify") o["limit"] = 3;
  for (const char* k : {"estimate_attributes", "estimate_emotions", "estimate_ethnicities", "estimate_quality",
                        "estimate_head_pose", "extract_exif"})
    o[k] = 0;
  o["yaw_threshold"] = 180;
  o["roll_threshold"] = 180;
  o["pitch_threshold"] = 180;
  o["score_threshold"] = 0.0;
  if (type == "verify") o["verify_threshold"] = face::kDefaultVerifyThreshold;
  if (type == "identify") o["identify_threshold"] = face::kDefaultVerifyThreshold;
  return o;
}
}  // namespace

class Handlers : public StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    if (IsSkipped()) return;  // backend not available here
    token_ = Register("handlers@example.com");
  }
  Reply Patch(const std::string& type, const json::value& body, const std::string& token = "") {
    return SendJson("PATCH", "/4/handlers/" + type, body, Token(token.empty() ? token_ : token));
  }
  json::object Handler(const std::string& type, const std::string& token = "") {
    return GetJson("/4/handlers/" + type, token.empty() ? token_ : token);
  }
  std::string token_;
};

TEST_F(Handlers, NewAccountsHaveThreeHandlersWithDefaultPolicies) {
  std::set<std::string> ids;
  for (const auto& type : kTypes) {
    json::object h = Handler(type);
    ASSERT_FALSE(h.empty()) << type;
    EXPECT_TRUE(core::IsUuid4(std::string(h.at("handler_id").as_string())));
    ids.insert(std::string(h.at("handler_id").as_string()));
    EXPECT_TRUE(IsIsoMillis(h.at("create_time")));
    EXPECT_EQ(h.at("last_update_time"), h.at("create_time"));
    EXPECT_EQ(h.at("type").as_string(), type);
    EXPECT_EQ(h.at("version").as_int64(), 1);
    EXPECT_EQ(h.at("policies").as_object(), Defaults(type)) << type << " " << json::serialize(h.at("policies"));
    EXPECT_EQ(h.size(), 6u);
  }
  EXPECT_EQ(ids.size(), 3u);
}

TEST_F(Handlers, PatchAppliesKeysAndBumpsTheVersionByOne) {
  const std::string list = NewList(token_, "persons");
  Tick();
  auto r = Patch("identify", json::object{{"list_id", list}, {"limit", 5}, {"identify_threshold", 0.8},
                                          {"yaw_threshold", 30}, {"estimate_quality", 1}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json(), (json::object{{"version", 2}}));
  r = Patch("identify", json::object{{"score_threshold", 0.5}, {"limit", 1}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("version").as_int64(), 3);

  json::object h = Handler("identify");
  EXPECT_EQ(h.at("version").as_int64(), 3);
  EXPECT_NE(h.at("last_update_time"), h.at("create_time"));
  json::object want = Defaults("identify");
  want["list_id"] = list;
  want["limit"] = 1;
  want["identify_threshold"] = 0.8;
  want["yaw_threshold"] = 30;
  want["estimate_quality"] = 1;
  want["score_threshold"] = 0.5;
  EXPECT_EQ(h.at("policies").as_object(), want) << json::serialize(h.at("policies"));
  // The other handlers did not move.
  EXPECT_EQ(Handler("verify").at("version").as_int64(), 1);
  EXPECT_EQ(Handler("extractor").at("version").as_int64(), 1);

  r = Patch("verify", json::object{{"verify_threshold", 1}, {"extract_exif", 1}});
  ASSERT_EQ(r.status, 200u) << r.body;
  json::object v = Handler("verify").at("policies").as_object();
  EXPECT_EQ(v.at("verify_threshold").to_number<double>(), 1.0);
  EXPECT_EQ(v.at("extract_exif").as_int64(), 1);
}

TEST_F(Handlers, BadPatchBodiesAre12022AndChangeNothing) {
  struct Case {
    std::string type;
    json::value body;
  };
  const std::vector<Case> cases = {
      {"extractor", json::object{}},                                  // at least one key
      {"extractor", json::object{{"limit", 3}}},                      // identify only
      {"extractor", json::object{{"verify_threshold", 0.5}}},         // verify only
      {"verify", json::object{{"list_id", core::NewUuid4()}}},        // verify has no list
      {"verify", json::object{{"identify_threshold", 0.5}}},
      {"identify", json::object{{"unknown", 1}}},
      {"identify", json::object{{"limit", 6}}},
      {"identify", json::object{{"limit", 0}}},
      {"identify", json::object{{"limit", 2.5}}},
      {"identify", json::object{{"list_id", "not-a-uuid"}}},
      {"identify", json::object{{"list_id", nullptr}}},
      {"extractor", json::object{{"yaw_threshold", 181}}},
      {"extractor", json::object{{"pitch_threshold", -1}}},
      {"extractor", json::object{{"score_threshold", 1.5}}},
      {"extractor", json::object{{"score_threshold", "0.5"}}},
      {"extractor", json::object{{"estimate_attributes", 2}}},
      {"extractor", json::object{{"estimate_emotions", true}}},
      {"verify", json::object{{"verify_threshold", -0.1}}},
      {"verify", json::array{1, 2}},
  };
  for (const auto& c : cases) {
    auto r = Patch(c.type, c.body);
    EXPECT_EQ(r.status, 400u) << c.type << " " << json::serialize(c.body) << " " << r.body;
    EXPECT_EQ(r.ErrorCode(), 12022) << c.type << " " << json::serialize(c.body) << " " << r.body;
  }
  auto r = Send("PATCH", "/4/handlers/verify", "{not json", {{"X-Auth-Token", token_}, {"Content-Type", "application/json"}});
  EXPECT_EQ(r.ErrorCode(), 12002) << r.body;
  r = Send("PATCH", "/4/handlers/verify", R"({"verify_threshold":0.5})", {{"X-Auth-Token", token_}, {"Content-Type", "text/plain"}});
  EXPECT_EQ(r.ErrorCode(), 12017) << r.body;
  EXPECT_EQ(Detail(Patch("extractor", json::object{})),
            "Failed to validate input json. Path: 'data', message: 'data must contain at least 1 properties'");
  for (const auto& type : kTypes) {
    json::object h = Handler(type);
    EXPECT_EQ(h.at("version").as_int64(), 1) << type;
    EXPECT_EQ(h.at("policies").as_object(), Defaults(type)) << type;
  }
}

TEST_F(Handlers, ListIdMustBeTheAccountsPersonsList) {
  const std::string other = Register("handlers-other@example.com");
  const std::string foreign = NewList(other, "persons");
  const std::string descriptors = NewList(token_, "descriptors");
  for (const std::string type : {"extractor", "identify"}) {
    auto r = Patch(type, json::object{{"list_id", foreign}});
    EXPECT_EQ(r.status, 400u) << r.body;
    EXPECT_EQ(r.ErrorCode(), 22003) << r.body;
    r = Patch(type, json::object{{"list_id", core::NewUuid4()}});
    EXPECT_EQ(r.ErrorCode(), 22003) << r.body;
    r = Patch(type, json::object{{"list_id", descriptors}});
    EXPECT_EQ(r.ErrorCode(), 22010) << r.body;
    EXPECT_EQ(Detail(r), "Wrong list type: expected a persons list");
    EXPECT_EQ(Handler(type).at("version").as_int64(), 1);
  }
}

TEST_F(Handlers, TenantsHaveTheirOwnHandlers) {
  const std::string other = Register("handlers-tenant@example.com");
  ASSERT_EQ(Patch("verify", json::object{{"verify_threshold", 0.9}}).status, 200u);
  json::object mine = Handler("verify"), theirs = Handler("verify", other);
  EXPECT_NE(mine.at("handler_id"), theirs.at("handler_id"));
  EXPECT_EQ(theirs.at("version").as_int64(), 1);
  EXPECT_EQ(theirs.at("policies").as_object(), Defaults("verify"));
  EXPECT_EQ(mine.at("policies").at("verify_threshold").as_double(), 0.9);
}

TEST_F(Handlers, AuthenticationAndMethods) {
  EXPECT_EQ(Send("GET", "/4/handlers/verify").ErrorCode(), 12010);
  EXPECT_EQ(Send("PATCH", "/4/handlers/verify", R"({"verify_threshold":0.5})", {{"Content-Type", "application/json"}}).ErrorCode(),
            12010);
  auto r = Send("GET", "/4/handlers/verify", "", Basic("handlers@example.com"));
  EXPECT_EQ(r.status, 200u) << r.body;
  r = Send("DELETE", "/4/handlers/verify", "", Token(token_));
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.ErrorCode(), 12021);
  EXPECT_EQ(Send("GET", "/4/handlers/unknown", "", Token(token_)).ErrorCode(), 12013);
}

}  // namespace fptest
