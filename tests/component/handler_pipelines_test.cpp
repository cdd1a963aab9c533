// Family H, the one-request pipelines (POST /4/handlers/{extractor|verify|identify}) through
// the real router, a real SQLite file, real portrait files, the real face engine on the
// labelled photos and the real matching index: every success path, every error, tenant
// isolation, and the extractor's all-or-nothing write when its policy list is gone.
#include <filesystem>

#include "api/index_follower.hpp"
#include "core/base64.hpp"
#include "core/uuid.hpp"
#include "face/descriptor_codec.hpp"
#include "face/similarity.hpp"
#include "face_helpers.hpp"
#include "storage_helpers.hpp"

namespace fptest {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {
const double kFar1e4 = face::kDefaultVerifyThreshold;
std::string Photo(const std::string& file) { return ReadFileBytes(FacesDir("deepface_unit/") + file); }
}  // namespace

class Pipelines : public StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    if (IsSkipped()) return;  // backend not available here
    if (!HaveFacesDir("deepface_unit")) GTEST_SKIP() << "no " << FacesDir("deepface_unit");
    UseFaceEngine(TheSharedEngine(), /*matching=*/true);
    if (HasFatalFailure()) return;
    token_ = Register("pipelines@example.com");
  }
  Reply Post(const std::string& target, const std::string& body, const std::string& type = "image/jpeg",
             const std::string& token = "") {
    return Send("POST", target, body, {{"X-Auth-Token", token.empty() ? token_ : token}, {"Content-Type", type}});
  }
  void Patch(const std::string& type, const json::object& body, const std::string& token = "") {
    auto r = SendJson("PATCH", "/4/handlers/" + type, body, Token(token.empty() ? token_ : token));
    ASSERT_EQ(r.status, 200u) << r.body;
  }
  // A person holding the descriptor of `file`, made by the extractor handler.
  std::string Enrol(const std::string& file, const std::string& query = "", const std::string& token = "") {
    auto r = Post("/4/handlers/extractor" + query, Photo(file), "image/jpeg", token);
    EXPECT_EQ(r.status, 201u) << file << " " << r.body;
    return r.status == 201 ? std::string(r.Json().at("person_id").as_string()) : std::string();
  }
  int PortraitFiles() {
    int n = 0;
    if (fs::exists(dir_ + "/portraits"))
      for (const auto& e : fs::recursive_directory_iterator(dir_ + "/portraits")) n += e.is_regular_file();
    return n;
  }
  int64_t Count(const std::string& target) { return GetJson(target, token_).at("count").as_int64(); }

  std::string token_;
};

// ---- extractor ---------------------------------------------------------------------------

TEST_F(Pipelines, ExtractorCreatesAPersonWithTheBestFacesDescriptor) {
  auto r = Post("/4/handlers/extractor?user_data=Alice&external_id=ext-1", Photo("couple.jpg"));
  ASSERT_EQ(r.status, 201u) << r.body;
  json::object o = r.Json();
  EXPECT_EQ(o.size(), 2u) << r.body;  // no exif by default
  const std::string pid(o.at("person_id").as_string());
  const json::object& f = o.at("face").as_object();
  const std::string did(f.at("id").as_string());
  EXPECT_FALSE(f.contains("attributes"));  // default policies estimate nothing

  // The best face by score of the two.
  face::Engine& e = *engine_;
  auto img = e.Decode(Photo("couple.jpg"), std::nullopt);
  auto faces = e.Detect(*img);
  ASSERT_GE(faces->size(), 2u);
  EXPECT_NEAR(f.at("score").to_number<double>(), faces->front().score, 1e-4);

  json::object p = Person(token_, pid);
  EXPECT_EQ(p.at("user_data").as_string(), "Alice");
  EXPECT_EQ(p.at("external_id").as_string(), "ext-1");
  EXPECT_EQ(Ids(p.at("descriptors")), std::vector<std::string>{did});
  EXPECT_TRUE(p.at("lists").as_array().empty());
  json::object d = GetJson("/4/storage/descriptors/" + did, token_);
  EXPECT_EQ(d.at("person_id").as_string(), pid);
  EXPECT_EQ(Send("GET", "/4/storage/portraits/" + did, "", Token(token_)).status, 200u);
  EXPECT_EQ(Count("/4/storage/persons"), 1);
  EXPECT_EQ(Count("/4/storage/descriptors"), 1);
}

TEST_F(Pipelines, ExtractorFollowsItsPolicies) {
  const std::string list = NewList(token_, "persons");
  Patch("extractor", json::object{{"list_id", list}, {"estimate_attributes", 1}, {"estimate_quality", 1},
                                  {"estimate_head_pose", 1}, {"extract_exif", 1}, {"estimate_emotions", 1}});
  auto r = Post("/4/handlers/extractor", Photo("img1.jpg"));
  ASSERT_EQ(r.status, 201u) << r.body;
  json::object o = r.Json();
  ASSERT_TRUE(o.contains("exif")) << r.body;
  const json::object& f = o.at("face").as_object();
  ASSERT_TRUE(f.contains("quality")) << r.body;
  const json::object& a = f.at("attributes").as_object();
  for (const char* k : {"age", "gender", "emotions", "head_pose"}) EXPECT_TRUE(a.contains(k)) << k;
  const std::string pid(o.at("person_id").as_string());
  EXPECT_EQ(Ids(Person(token_, pid).at("lists")), std::vector<std::string>{list});
  EXPECT_EQ(Count("/4/storage/lists/" + list), 1);

  // Thresholds: a score threshold of 1 drops every face (11027), and nothing is stored.
  Patch("extractor", json::object{{"score_threshold", 1}});
  r = Post("/4/handlers/extractor", Photo("img2.jpg"));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.ErrorCode(), 11027) << r.body;
  // A yaw threshold of 0 too (no real face is at exactly 0 degrees).
  Patch("extractor", json::object{{"score_threshold", 0}, {"yaw_threshold", 0}});
  r = Post("/4/handlers/extractor", Photo("img2.jpg"));
  EXPECT_EQ(r.ErrorCode(), 11027) << r.body;
  // A generous one keeps the face and reports the pose it was judged on.
  Patch("extractor", json::object{{"yaw_threshold", 90}, {"estimate_head_pose", 0}});
  r = Post("/4/handlers/extractor", Photo("img2.jpg"));
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_TRUE(r.Json().at("face").at("attributes").as_object().contains("head_pose"));
  EXPECT_EQ(Count("/4/storage/persons"), 2);
}

TEST_F(Pipelines, ExtractorTakesADescriptorToo) {
  auto img = engine_->Decode(Photo("img1.jpg"), std::nullopt);
  auto faces = engine_->Process(*img, {});
  ASSERT_TRUE(faces && !faces->empty());
  const std::string bin = face::EncodeDescriptor(*faces->front().descriptor);
  for (const auto& [body, type] : {std::pair{bin, std::string("application/x-vl-face-descriptor")},
                                   std::pair{core::Base64Encode(bin), std::string("application/x-vl-face-descriptor-base64")}}) {
    auto r = Post("/4/handlers/extractor?user_data=raw", body, type);
    ASSERT_EQ(r.status, 201u) << type << " " << r.body;
    const std::string did(r.Json().at("face").at("id").as_string());
    json::object p = Person(token_, std::string(r.Json().at("person_id").as_string()));
    EXPECT_EQ(Ids(p.at("descriptors")), std::vector<std::string>{did});
    EXPECT_EQ(Send("GET", "/4/storage/portraits/" + did, "", Token(token_)).ErrorCode(), 11024);
  }
  EXPECT_EQ(PortraitFiles(), 0);
}

// The injected failure: the policy list is deleted after the PATCH. The descriptor, the person
// and the link are written in the same transaction as the list link, which fails, so nothing
// is left: no person, no descriptor, no portrait file, no change for the matching index.
TEST_F(Pipelines, ExtractorLeavesNothingBehindWhenItsListIsGone) {
  const std::string list = NewList(token_, "persons");
  Patch("extractor", json::object{{"list_id", list}});
  ASSERT_EQ(Send("DELETE", "/4/storage/lists/" + list, "", Token(token_)).status, 204u);
  const int64_t seq = *store_->LastChangeSeq();
  for (const auto& [body, type] :
       {std::pair{Photo("img1.jpg"), std::string("image/jpeg")},
        std::pair{core::Base64Encode(Photo("img1.jpg")), std::string("image/x-jpeg-base64")}}) {
    auto r = Post("/4/handlers/extractor?user_data=x", body, type);
    EXPECT_EQ(r.status, 400u) << r.body;
    EXPECT_EQ(r.ErrorCode(), 22003) << r.body;
  }
  EXPECT_EQ(Count("/4/storage/persons"), 0);
  EXPECT_EQ(Count("/4/storage/descriptors"), 0);
  EXPECT_EQ(PortraitFiles(), 0);
  EXPECT_EQ(*store_->LastChangeSeq(), seq);
  // With the list back in place the same request succeeds.
  const std::string again = NewList(token_, "persons");
  Patch("extractor", json::object{{"list_id", again}});
  EXPECT_FALSE(Enrol("img1.jpg").empty());
  EXPECT_EQ(PortraitFiles(), 1);  // one bundle: portrait + 4 thumbnails
}

// warped_image=1: the whole image is the face (no detection), for the three pipelines.
TEST_F(Pipelines, WarpedImagesAreTheWholeFace) {
  auto img = engine_->Decode(Photo("img1.jpg"), std::nullopt, false, true);
  auto faces = engine_->Detect(*img, 1);
  ASSERT_TRUE(faces && !faces->empty());
  const std::string warped = *engine_->EncodeJpeg(*engine_->Warp(*img, faces->front()));
  auto r = Post("/4/handlers/extractor?warped_image=1", warped);
  ASSERT_EQ(r.status, 201u) << r.body;
  const std::string pid(r.Json().at("person_id").as_string());
  EXPECT_EQ(r.Json().at("face").at("score").to_number<double>(), 1.0);  // no detector ran
  r = Post("/4/handlers/verify?warped_image=1&person_id=" + pid, warped);
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(r.Json().at("status"), json::value(true));
  // The same face as an ordinary photo verifies against it too.
  r = Post("/4/handlers/verify?person_id=" + pid, Photo("img2.jpg"));
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(r.Json().at("status"), json::value(true)) << r.body;
}

// A policy asking for an estimator without a model is refused when used (ethnicities has no
// model in the default manifest), and nothing is stored.
TEST_F(Pipelines, UnavailableEstimatorIs12018) {
  if (engine_->HasEstimator("ethnicities")) GTEST_SKIP() << "an ethnicities model is configured";
  Patch("extractor", json::object{{"estimate_ethnicities", 1}});
  auto r = Post("/4/handlers/extractor", Photo("img1.jpg"));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.ErrorCode(), 12018) << r.body;
  EXPECT_EQ(Count("/4/storage/persons"), 0);
  EXPECT_EQ(PortraitFiles(), 0);
}

TEST_F(Pipelines, ExtractorErrors) {
  struct Case {
    std::string query, body, type;
    int code;
  };
  const std::vector<Case> cases = {
      {"", PlainJpegOf(320, 240), "image/jpeg", 4003},
      {"", "not an image at all", "image/jpeg", 3001},
      {"", Photo("img1.jpg"), "image/png", 12025},
      {"", PlainJpegOf(40, 40), "image/jpeg", 3002},
      {"", Photo("img1.jpg"), "text/plain", 12017},
      {"", Photo("img1.jpg"), "", 12017},
      {"", "@@@", "image/x-jpeg-base64", 18001},
      {"", "xpk", "application/x-vl-xpk", 12026},
      {"", "dp\0\0short", "application/x-vl-face-descriptor", 12022},
      {"?user_data=" + std::string(129, 'u'), Photo("img1.jpg"), "image/jpeg", 12012},
      {"?external_id=" + std::string(37, 'e'), Photo("img1.jpg"), "image/jpeg", 12012},
      {"?warped_image=2", Photo("img1.jpg"), "image/jpeg", 12012},
      {"?no_cache=x", Photo("img1.jpg"), "image/jpeg", 12012},
  };
  for (const auto& c : cases) {
    auto r = Post("/4/handlers/extractor" + c.query, c.body, c.type);
    EXPECT_EQ(r.ErrorCode(), c.code) << c.query << " " << c.type << " " << r.body;
  }
  EXPECT_EQ(Count("/4/storage/persons"), 0);
  EXPECT_EQ(Count("/4/storage/descriptors"), 0);
  EXPECT_EQ(PortraitFiles(), 0);
  EXPECT_EQ(Send("POST", "/4/handlers/extractor", Photo("img1.jpg"), {{"Content-Type", "image/jpeg"}}).ErrorCode(),
            12010);
}

// ---- verify --------------------------------------------------------------------------------

TEST_F(Pipelines, VerifyMatchesThePersonAndStoresATemporaryDescriptor) {
  const std::string same = Enrol("img2.jpg", "?user_data=same&external_id=e1");  // id00
  const std::string other = Enrol("img26.jpg");                                   // id01
  auto r = Post("/4/handlers/verify?person_id=" + same, Photo("img1.jpg"));       // id00
  ASSERT_EQ(r.status, 201u) << r.body;
  json::object o = r.Json();
  EXPECT_EQ(o.at("status"), json::value(true));
  json::array c = o.at("candidates").as_array();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].at("person_id").as_string(), same);
  EXPECT_EQ(c[0].at("user_data").as_string(), "same");
  EXPECT_EQ(c[0].at("external_id").as_string(), "e1");
  EXPECT_GE(c[0].at("similarity").to_number<double>(), kFar1e4);
  // The probe is a temporary descriptor: stored, linked to nothing.
  const std::string probe(o.at("face").at("id").as_string());
  json::object d = GetJson("/4/storage/descriptors/" + probe, token_);
  EXPECT_TRUE(d.at("person_id").is_null());
  EXPECT_TRUE(d.at("lists").as_array().empty());

  // Another identity: status false, and the candidate is still returned.
  r = Post("/4/handlers/verify?person_id=" + other, Photo("img1.jpg"));
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(r.Json().at("status"), json::value(false));
  c = r.Json().at("candidates").as_array();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].at("person_id").as_string(), other);
  EXPECT_LT(c[0].at("similarity").to_number<double>(), kFar1e4);

  // The threshold is the policy's: at 1 even the same identity fails, at 0 anyone passes.
  Patch("verify", json::object{{"verify_threshold", 1}});
  r = Post("/4/handlers/verify?person_id=" + same, Photo("img1.jpg"));
  EXPECT_EQ(r.Json().at("status"), json::value(false)) << r.body;
  EXPECT_EQ(r.Json().at("candidates").as_array().size(), 1u);
  Patch("verify", json::object{{"verify_threshold", 0}, {"extract_exif", 1}});
  r = Post("/4/handlers/verify?person_id=" + other, Photo("img1.jpg"));
  EXPECT_EQ(r.Json().at("status"), json::value(true)) << r.body;
  EXPECT_TRUE(r.Json().contains("exif"));

  // A person without descriptors: no candidate, status false.
  const std::string empty = NewPerson(token_);
  r = Post("/4/handlers/verify?person_id=" + empty, Photo("img1.jpg"));
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(r.Json().at("status"), json::value(false));
  EXPECT_TRUE(r.Json().at("candidates").as_array().empty());
}

TEST_F(Pipelines, VerifyTakesADescriptor) {
  const std::string same = Enrol("img2.jpg");
  auto img = engine_->Decode(Photo("img4.jpg"), std::nullopt);  // id00
  auto faces = engine_->Process(*img, {});
  ASSERT_TRUE(faces && !faces->empty());
  auto r = Post("/4/handlers/verify?person_id=" + same, face::EncodeDescriptor(*faces->front().descriptor),
                "application/x-vl-face-descriptor");
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(r.Json().at("status"), json::value(true));
  const std::string probe(r.Json().at("face").at("id").as_string());
  EXPECT_TRUE(GetJson("/4/storage/descriptors/" + probe, token_).at("person_id").is_null());
}

TEST_F(Pipelines, VerifyErrorsAndTenancy) {
  const std::string person = Enrol("img2.jpg");
  const std::string other = Register("pipelines-other@example.com");
  const int64_t before = Count("/4/storage/descriptors");
  struct Case {
    std::string query, body, type, token;
    int code;
  };
  const std::vector<Case> cases = {
      {"", Photo("img1.jpg"), "image/jpeg", "", 12014},
      {"?person_id=nope", Photo("img1.jpg"), "image/jpeg", "", 12012},
      {"?person_id=" + core::NewUuid4(), Photo("img1.jpg"), "image/jpeg", "", 22007},
      {"?person_id=" + person, Photo("img1.jpg"), "image/jpeg", other, 22007},  // another tenant's person
      {"?person_id=" + person, PlainJpegOf(320, 240), "image/jpeg", "", 4003},
      {"?person_id=" + person, "garbage", "image/jpeg", "", 3001},
      {"?person_id=" + person, Photo("img1.jpg"), "text/plain", "", 12017},
      {"?person_id=" + person, "x", "application/x-vl-xpk", "", 12026},
      {"?person_id=" + person, "%%", "image/x-jpeg-base64", "", 18001},
  };
  for (const auto& c : cases) {
    auto r = Post("/4/handlers/verify" + c.query, c.body, c.type, c.token);
    EXPECT_EQ(r.status, 400u) << c.query << " " << r.body;
    EXPECT_EQ(r.ErrorCode(), c.code) << c.query << " " << c.type << " " << r.body;
  }
  EXPECT_EQ(Count("/4/storage/descriptors"), before);  // nothing stored by a failed request
  EXPECT_EQ(GetJson("/4/storage/descriptors", other).at("count").as_int64(), 0);
}

// ---- identify ------------------------------------------------------------------------------

TEST_F(Pipelines, IdentifyMatchesThePolicyList) {
  const std::string list = NewList(token_, "persons");
  std::map<std::string, std::string> person_of;
  for (const auto& [identity, file] : std::map<std::string, std::string>{
           {"id00", "img2.jpg"}, {"id01", "img26.jpg"}, {"id02", "img8.jpg"}, {"id03", "img12.jpg"}})
    person_of[identity] = Enrol(file, "?user_data=" + identity);
  const std::string outside = Enrol("img4.jpg");  // id00 too, but not in the list
  std::vector<std::string> members;
  for (const auto& [k, v] : person_of) members.push_back(v);
  ASSERT_EQ(Link(token_, "attach", list, "person_ids", members).status, 204u);

  Patch("identify", json::object{{"list_id", list}, {"identify_threshold", 0}});
  auto r = Post("/4/handlers/identify", Photo("img10.jpg"));  // id00
  ASSERT_EQ(r.status, 201u) << r.body;
  json::array c = r.Json().at("candidates").as_array();
  ASSERT_EQ(c.size(), 3u);  // default limit 3
  EXPECT_EQ(c[0].at("person_id").as_string(), person_of["id00"]);
  for (const auto& x : c) EXPECT_NE(x.at("person_id").as_string(), outside);
  for (std::size_t i = 1; i < c.size(); ++i)
    EXPECT_GE(c[i - 1].at("similarity").to_number<double>(), c[i].at("similarity").to_number<double>());
  const std::string probe(r.Json().at("face").at("id").as_string());
  EXPECT_TRUE(GetJson("/4/storage/descriptors/" + probe, token_).at("person_id").is_null());

  Patch("identify", json::object{{"limit", 5}});
  r = Post("/4/handlers/identify", Photo("img10.jpg"));
  EXPECT_EQ(r.Json().at("candidates").as_array().size(), 4u) << r.body;
  // The default threshold (FAR 1e-4) keeps only the right person.
  Patch("identify", json::object{{"identify_threshold", kFar1e4}});
  r = Post("/4/handlers/identify", Photo("img10.jpg"));
  c = r.Json().at("candidates").as_array();
  ASSERT_EQ(c.size(), 1u) << r.body;
  EXPECT_EQ(c[0].at("person_id").as_string(), person_of["id00"]);
  Patch("identify", json::object{{"identify_threshold", 1}});
  r = Post("/4/handlers/identify", Photo("img10.jpg"));
  EXPECT_TRUE(r.Json().at("candidates").as_array().empty()) << r.body;
}

TEST_F(Pipelines, IdentifyErrors) {
  const int64_t before = Count("/4/storage/descriptors");
  // No list in the policy yet.
  auto r = Post("/4/handlers/identify", Photo("img1.jpg"));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.ErrorCode(), 22003) << r.body;
  // The policy list deleted since.
  const std::string list = NewList(token_, "persons");
  Patch("identify", json::object{{"list_id", list}});
  ASSERT_EQ(Send("DELETE", "/4/storage/lists/" + list, "", Token(token_)).status, 204u);
  r = Post("/4/handlers/identify", Photo("img1.jpg"));
  EXPECT_EQ(r.ErrorCode(), 22003) << r.body;
  EXPECT_EQ(Count("/4/storage/descriptors"), before);
  const std::string live = NewList(token_, "persons");
  Patch("identify", json::object{{"list_id", live}});
  for (const auto& [body, type, code] : std::vector<std::tuple<std::string, std::string, int>>{
           {PlainJpegOf(320, 240), "image/jpeg", 4003},
           {"garbage", "image/jpeg", 3001},
           {"x", "text/plain", 12017},
           {"x", "application/x-vl-xpk-base64", 12026}}) {
    r = Post("/4/handlers/identify", body, type);
    EXPECT_EQ(r.ErrorCode(), code) << type << " " << r.body;
  }
  // An empty list: no candidates.
  r = Post("/4/handlers/identify", Photo("img1.jpg"));
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_TRUE(r.Json().at("candidates").as_array().empty());
}

TEST_F(Pipelines, IdentifyNeverCrossesTenants) {
  const std::string other = Register("pipelines-tenant@example.com");
  const std::string mine = NewList(token_, "persons");
  const std::string mine_person = Enrol("img2.jpg");
  ASSERT_EQ(Link(token_, "attach", mine, "person_ids", {mine_person}).status, 204u);
  // The other account cannot point its handler at my list, and its own list knows nothing of mine.
  auto r = SendJson("PATCH", "/4/handlers/identify", json::object{{"list_id", mine}}, Token(other));
  EXPECT_EQ(r.ErrorCode(), 22003) << r.body;
  const std::string theirs = NewList(other, "persons");
  Patch("identify", json::object{{"list_id", theirs}, {"identify_threshold", 0}}, other);
  r = Post("/4/handlers/identify", Photo("img1.jpg"), "image/jpeg", other);
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_TRUE(r.Json().at("candidates").as_array().empty());
  // And the other account's extractor never lands in my list.
  Patch("extractor", json::object{{"list_id", theirs}}, other);
  EXPECT_FALSE(Enrol("img4.jpg", "", other).empty());
  EXPECT_EQ(Count("/4/storage/lists/" + mine), 1);
}

}  // namespace fptest
