// Family D (descriptors, linked lists, portraits) through the real router, a real SQLite file,
// a real portrait directory and the real face engine on real photos.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api_fixture.hpp"
#include "core/base64.hpp"
#include "core/uuid.hpp"
#include "face/descriptor_codec.hpp"
#include "face/engine.hpp"
#include "face_helpers.hpp"

namespace fptest {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {
// A single-face photo: LFW crop from the shared data when present, else a face cut from a
// group photo of the npm test data (always installed by setup).
const std::string& OneFaceJpeg() {
  static const std::string bytes = [] {
    std::string lfw = std::string(FACEPORT_SHARED_DIR) + "/data/faces/deepface_unit/img1.jpg";
    if (fs::exists(lfw)) return ReadFileBytes(lfw);
    return std::string();
  }();
  return bytes;
}

std::string SampleJpeg(int i) { return ReadFileBytes(std::string(FACEPORT_TESTDATA_DIR) + "/sample" + std::to_string(i) + ".jpg"); }

}  // namespace

class Descriptors : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped()) return;  // backend not available here
    UseFaceEngine(TheSharedEngine(), /*matching=*/false);
    if (HasFatalFailure()) return;
    token_ = Register("faces@example.com");
  }
  Reply Post(const std::string& query, const std::string& body, const std::string& type = "image/jpeg",
             const std::string& token = "") {
    return Send("POST", "/4/storage/descriptors" + query, body,
                {{"X-Auth-Token", token.empty() ? token_ : token}, {"Content-Type", type}});
  }
  Reply Get(const std::string& target, http::Fields extra = {}) {
    extra.emplace_back("X-Auth-Token", token_);
    return Send("GET", target, "", extra);
  }
  std::string group_ = SampleJpeg(1);
  std::string token_;
};

TEST_F(Descriptors, ExtractsEveryFaceWithPortraitsAndStoresThem) {
  auto r = Post("", group_);
  ASSERT_EQ(r.status, 201u) << r.body;
  auto faces = r.Json().at("faces").as_array();
  EXPECT_EQ(faces.size(), 3u);  // sample1.jpg has three faces
  for (const auto& fv : faces) {
    const auto& f = fv.as_object();
    std::string id(f.at("id").as_string());
    EXPECT_TRUE(core::IsUuid4(id));
    for (const char* k : {"x", "y", "width", "height"}) {
      EXPECT_TRUE(f.at("rect").at(k).is_int64());
      EXPECT_TRUE(f.at("rectISO").at(k).is_int64());
    }
    double score = f.at("score").to_number<double>();
    EXPECT_GT(score, 0.0);
    EXPECT_LE(score, 1.0);
    EXPECT_FALSE(f.contains("attributes"));
    EXPECT_FALSE(f.contains("quality"));
    auto d = Get("/4/storage/descriptors/" + id);
    ASSERT_EQ(d.status, 200u);
    EXPECT_TRUE(d.Json().at("person_id").is_null());
    EXPECT_EQ(d.Json().at("lists").as_array().size(), 0u);
    auto p = Get("/4/storage/portraits/" + id);
    ASSERT_EQ(p.status, 200u);
    EXPECT_EQ(*p.Header("Content-Type"), "image/jpeg");
    auto img = TheSharedEngine().Decode(p.body, face::ImageFormat::Jpeg);
    ASSERT_TRUE(img);
    EXPECT_EQ(std::max(img->width, img->height), 250);
    for (int side : {32, 64, 96, 160}) {
      auto t = Get("/4/storage/portraits/" + id + "_" + std::to_string(side));
      ASSERT_EQ(t.status, 200u) << side;
      EXPECT_EQ(t.body.substr(0, 2), "\xff\xd8");
      if (side >= 160) {  // smaller thumbnails are below the decoder's 96 px minimum
        auto ti = TheSharedEngine().Decode(t.body, face::ImageFormat::Jpeg);
        ASSERT_TRUE(ti);
        EXPECT_EQ(std::max(ti->width, ti->height), side);
      }
    }
  }
  auto list = Get("/4/storage/descriptors?page_size=2");
  EXPECT_EQ(list.Json().at("count").as_int64(), 3);
  EXPECT_EQ(list.Json().at("descriptors").as_array().size(), 2u);
}

TEST_F(Descriptors, PortraitCachingAndErrors) {
  auto r = Post("", group_);
  std::string id(r.Json().at("faces").as_array()[0].at("id").as_string());
  auto p = Get("/4/storage/portraits/" + id);
  ASSERT_NE(p.Header("ETag"), nullptr);
  EXPECT_NE(p.Header("Cache-Control"), nullptr);
  auto again = Get("/4/storage/portraits/" + id, {{"If-None-Match", *p.Header("ETag")}});
  EXPECT_EQ(again.status, 304u);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(Get("/4/storage/portraits/" + id + "_33").ErrorCode(), 12013);
  auto unknown = Get("/4/storage/portraits/" + core::NewUuid4());
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(unknown.ErrorCode(), 11018);
}

TEST_F(Descriptors, AttributesOnlyWhenAsked) {
  auto r = Post("?estimate_attributes=1&estimate_emotions=1&estimate_quality=1&estimate_head_pose=1", group_);
  ASSERT_EQ(r.status, 201u) << r.body;
  auto body = r.Json();  // keep the parsed document alive: the references below point into it
  const auto& f = body.at("faces").as_array()[0].as_object();
  const auto& a = f.at("attributes").as_object();
  double age = a.at("age").to_number<double>();
  EXPECT_GT(age, 5);
  EXPECT_LT(age, 90);
  double gender = a.at("gender").to_number<double>();
  EXPECT_GE(gender, 0);
  EXPECT_LE(gender, 1);
  EXPECT_EQ(a.at("emotions").at("estimations").as_object().size(), 7u);
  EXPECT_TRUE(a.at("emotions").at("predominant_emotion").is_string());
  for (const char* k : {"pitch", "yaw", "roll"}) EXPECT_TRUE(a.at("head_pose").at(k).is_number());
  for (const char* k : {"light", "dark", "saturation", "blurriness"}) {
    double q = f.at("quality").at(k).to_number<double>();
    EXPECT_GE(q, 0);
    EXPECT_LE(q, 1);
  }
  EXPECT_FALSE(a.contains("ethnicities"));
  auto pose_only = Post("?yaw__lt=90", group_);
  auto pose_body = pose_only.Json();
  const auto& pa = pose_body.at("faces").as_array()[0].at("attributes").as_object();
  EXPECT_TRUE(pa.contains("head_pose"));
  EXPECT_EQ(pa.size(), 1u);
}

TEST_F(Descriptors, ThresholdsFilterFaces) {
  EXPECT_EQ(Post("?score_threshold=1", group_).ErrorCode(), 11027);
  EXPECT_EQ(Post("?yaw__lt=0", group_).ErrorCode(), 11027);          // every |yaw| >= 0
  EXPECT_EQ(Post("?yaw__lt=500", group_).status, 201u);              // outside 0..180: ignored
  EXPECT_EQ(Post("?yaw__lt=abc", group_).ErrorCode(), 12012);
  EXPECT_EQ(Post("?score_threshold=1.5", group_).ErrorCode(), 12012);
  EXPECT_EQ(Post("?score_threshold=0.2", group_).status, 201u);
}

TEST_F(Descriptors, NoDescriptorMode) {
  auto r = Post("?extract_descriptor=0", group_);
  ASSERT_EQ(r.status, 201u);
  auto body = r.Json();
  for (const auto& f : body.at("faces").as_array()) EXPECT_FALSE(f.as_object().contains("id"));
  EXPECT_EQ(Get("/4/storage/descriptors").Json().at("count").as_int64(), 0);
}

TEST_F(Descriptors, BadInputsGetTheirCodes) {
  EXPECT_EQ(Post("", PlainJpegOf(320, 240)).ErrorCode(), 4003);
  EXPECT_EQ(Post("", "not base64!!", "image/jpeg-base64").ErrorCode(), 18001);
  EXPECT_EQ(Post("", core::Base64Encode(group_), "image/jpeg-base64").status, 201u);
  EXPECT_EQ(Post("", core::Base64Encode(group_), "image/x-jpeg-base64").status, 201u);  // the reference's spelling
  EXPECT_EQ(Post("", "eHBr", "application/x-vl-xpk-base64").ErrorCode(), 12026);
  EXPECT_EQ(Post("", group_.substr(0, 200)).ErrorCode(), 3001);            // truncated
  EXPECT_EQ(Post("", std::string(5000, 'x')).ErrorCode(), 3001);           // garbage: no image format at all
  EXPECT_EQ(Post("", group_, "image/png").ErrorCode(), 12025);             // declared type disagrees
  EXPECT_EQ(Post("", PlainJpegOf(60, 60)).ErrorCode(), 3002);
  EXPECT_EQ(Post("", group_, "text/plain").ErrorCode(), 12017);
  EXPECT_EQ(Send("POST", "/4/storage/descriptors", group_, {{"X-Auth-Token", token_}}).ErrorCode(), 12017);
  EXPECT_EQ(Post("", "xpk", "application/x-vl-xpk").ErrorCode(), 12026);
  EXPECT_EQ(Post("?estimate_ethnicities=1", group_).ErrorCode(), 12018);
  EXPECT_EQ(Post("?estimate_attributes=2", group_).ErrorCode(), 12012);
  EXPECT_EQ(Send("POST", "/4/storage/descriptors", group_, {{"Content-Type", "image/jpeg"}}).ErrorCode(), 12010);
}

TEST_F(Descriptors, ExportAndImportTheBinaryForm) {
  auto r = Post("", group_);
  std::string id(r.Json().at("faces").as_array()[0].at("id").as_string());
  auto bin = Get("/4/storage/descriptors/" + id, {{"Accept", "application/x-vl-face-descriptor"}});
  ASSERT_EQ(bin.status, 200u);
  EXPECT_EQ(*bin.Header("Content-Type"), "application/x-vl-face-descriptor");
  ASSERT_EQ(bin.body.size(), 8u + 4 * 512);
  EXPECT_EQ(bin.body.substr(0, 4), std::string("dp\0\0", 4));
  auto up = Post("", bin.body, "application/x-vl-face-descriptor");
  ASSERT_EQ(up.status, 201u) << up.body;
  auto faces = up.Json().at("faces").as_array();
  ASSERT_EQ(faces.size(), 1u);
  EXPECT_EQ(faces[0].as_object().size(), 1u);  // {"id"} only
  std::string new_id(faces[0].at("id").as_string());
  auto back = Get("/4/storage/descriptors/" + new_id, {{"Accept", "application/x-vl-face-descriptor"}});
  EXPECT_EQ(back.body, bin.body);  // round trip is bit-exact
  EXPECT_EQ(Post("", core::Base64Encode(bin.body), "application/x-vl-face-descriptor-base64").status, 201u);
  auto portrait = Get("/4/storage/portraits/" + new_id);
  EXPECT_EQ(portrait.status, 404u);
  EXPECT_EQ(portrait.ErrorCode(), 11024);
  std::string wrong = bin.body;
  wrong[4] = 99;  // version 99
  auto v = Post("", wrong, "application/x-vl-face-descriptor");
  EXPECT_EQ(v.status, 400u);
  EXPECT_NE(v.body.find("99"), std::string::npos) << v.body;
  EXPECT_EQ(Post("", bin.body.substr(0, 100), "application/x-vl-face-descriptor").status, 400u);
  EXPECT_EQ(Post("", "xxxx" + bin.body.substr(4), "application/x-vl-face-descriptor").status, 400u);
}

TEST_F(Descriptors, WarpedInputIsTheWholeFace) {
  auto img = TheSharedEngine().Decode(group_, face::ImageFormat::Jpeg, false, true);
  ASSERT_TRUE(img);
  auto faces = TheSharedEngine().Detect(*img);
  ASSERT_TRUE(faces && !faces->empty());
  auto warped = TheSharedEngine().Warp(*img, (*faces)[0]);
  ASSERT_TRUE(warped);
  auto jpeg = *TheSharedEngine().EncodeJpeg(*warped);
  auto r = Post("?warped_image=1", jpeg);
  ASSERT_EQ(r.status, 201u) << r.body;
  std::string id(r.Json().at("faces").as_array()[0].at("id").as_string());
  EXPECT_EQ(Get("/4/storage/portraits/" + id).body, jpeg);  // the portrait is the image as sent
}

TEST_F(Descriptors, ExifWhenAsked) {
  auto r = Post("?extract_exif=1", group_);
  ASSERT_EQ(r.status, 201u);
  EXPECT_TRUE(r.Json().at("exif").is_object());
  EXPECT_FALSE(Post("", group_).Json().contains("exif"));
  const std::string& one = OneFaceJpeg();
  if (one.empty()) GTEST_SKIP() << "../shared absent";
  auto e = Post("?extract_exif=1", one);
  ASSERT_EQ(e.status, 201u) << e.body;
}

TEST_F(Descriptors, LinkedLists) {
  auto r = Post("", group_);
  std::string id(r.Json().at("faces").as_array()[0].at("id").as_string());
  auto dl = SendJson("POST", "/4/storage/lists?type=descriptors", json::object{{"list_data", "d"}}, Token(token_));
  ASSERT_EQ(dl.status, 201u) << dl.body;
  std::string list(dl.Json().at("list_id").as_string());
  auto pl = SendJson("POST", "/4/storage/lists?type=persons", json::object{}, Token(token_));
  std::string plist(pl.Json().at("list_id").as_string());
  auto link = [&](const std::string& q) { return Send("PATCH", "/4/storage/descriptors/" + id + "/linked_lists" + q, "", Token(token_)); };
  EXPECT_EQ(link("?list_id=" + list + "&do=attach").status, 204u);
  EXPECT_EQ(link("?list_id=" + list + "&do=attach").status, 204u);  // harmless twice
  auto got = Get("/4/storage/descriptors/" + id + "/linked_lists");
  ASSERT_EQ(got.Json().at("lists").as_array().size(), 1u);
  EXPECT_EQ(Get("/4/storage/descriptors/" + id).Json().at("lists").as_array()[0].as_string(), list);
  auto wrong = link("?list_id=" + plist + "&do=attach");
  EXPECT_EQ(wrong.ErrorCode(), 22010);
  auto unknown_list = link("?list_id=" + core::NewUuid4() + "&do=attach");
  EXPECT_EQ(unknown_list.status, 400u);
  EXPECT_EQ(unknown_list.ErrorCode(), 22003);
  EXPECT_EQ(link("?do=attach").ErrorCode(), 12014);
  EXPECT_EQ(link("?list_id=" + list).ErrorCode(), 12014);
  EXPECT_EQ(link("?list_id=" + list + "&do=maybe").ErrorCode(), 12012);
  EXPECT_EQ(link("?list_id=x&do=attach").ErrorCode(), 12012);
  auto unknown_desc = Send("PATCH", "/4/storage/descriptors/" + core::NewUuid4() + "/linked_lists?list_id=" + list + "&do=attach", "", Token(token_));
  EXPECT_EQ(unknown_desc.status, 404u);
  EXPECT_EQ(unknown_desc.ErrorCode(), 11018);
  EXPECT_EQ(link("?list_id=" + list + "&do=detach").status, 204u);
  EXPECT_EQ(link("?list_id=" + list + "&do=detach").status, 204u);  // harmless for a non-member
  EXPECT_EQ(Get("/4/storage/descriptors/" + id + "/linked_lists").Json().at("lists").as_array().size(), 0u);
}

TEST_F(Descriptors, TenantIsolation) {
  auto r = Post("", group_);
  std::string id(r.Json().at("faces").as_array()[0].at("id").as_string());
  std::string other = Register("other@example.com");
  std::string unknown = core::NewUuid4();
  auto same = [&](const std::string& method, const std::string& pattern) {
    auto with = [&](const std::string& x) {
      std::string t = pattern;
      t.replace(t.find("{id}"), 4, x);
      return Send(method, t, "", Token(other));
    };
    auto a = with(id), b = with(unknown);
    EXPECT_EQ(a.status, b.status) << pattern;
    std::string ad = a.body, bd = b.body;
    auto pos = ad.find(id);
    if (pos != std::string::npos) ad.replace(pos, id.size(), unknown);
    EXPECT_EQ(ad, bd) << pattern;
    EXPECT_GE(a.status, 400u) << pattern;
  };
  same("GET", "/4/storage/descriptors/{id}");
  same("GET", "/4/storage/descriptors/{id}/linked_lists");
  same("GET", "/4/storage/portraits/{id}");
  same("GET", "/4/storage/portraits/{id}_64");
  auto ol = SendJson("POST", "/4/storage/lists?type=descriptors", json::object{}, Token(other));
  std::string olist(ol.Json().at("list_id").as_string());
  same("PATCH", "/4/storage/descriptors/{id}/linked_lists?list_id=" + olist + "&do=attach");
  EXPECT_EQ(Send("GET", "/4/storage/descriptors", "", Token(other)).Json().at("count").as_int64(), 0);
  // A's descriptor untouched.
  EXPECT_EQ(Get("/4/storage/descriptors/" + id).Json().at("lists").as_array().size(), 0u);
}

}  // namespace fptest
