// Family V, POST /4/liveness, through the real router and the real face engine: the three
// input forms, per-image results and errors, aggregation, warped samples, limits, and the
// model's verdicts on the labelled samples (2 spoofs, 1 real) and on the 64 real photos of
// deepface_unit (docs/BENCHMARKS.md "Liveness").
#include <filesystem>

#include <opencv2/imgcodecs.hpp>

#include "core/base64.hpp"
#include "face_helpers.hpp"
#include "storage_helpers.hpp"

namespace fptest {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {
std::string Sample(const std::string& file) { return ReadFileBytes(FacesDir("liveness_samples/") + file); }

// deepface_unit/img47.jpg is a WebP file under a .jpg name; WebP is no LUNA content type (the
// service answers 3001 for it), so it is sent as the JPEG a client would send.
std::string AsJpeg(const std::string& bytes) {
  if (bytes.compare(0, 4, "RIFF") != 0 || bytes.compare(8, 4, "WEBP") != 0) return bytes;
  cv::Mat m = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data())),
                           cv::IMREAD_COLOR);
  std::vector<uchar> out;
  cv::imencode(".jpg", m, out, {cv::IMWRITE_JPEG_QUALITY, 95});
  return std::string(out.begin(), out.end());
}

struct PartSpec {
  std::string name, filename, type, body;
};
std::string Multipart(const std::string& boundary, const std::vector<PartSpec>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.filename.empty()) out += "; filename=\"" + p.filename + "\"";
    out += "\r\n";
    if (!p.type.empty()) out += "Content-Type: " + p.type + "\r\n";
    out += "\r\n" + p.body + "\r\n";
  }
  return out + "--" + boundary + "--\r\n";
}
}  // namespace

class Liveness : public StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    if (IsSkipped()) return;  // backend not available here
    if (!HaveFacesDir("liveness_samples")) GTEST_SKIP() << "no " << FacesDir("liveness_samples");
    engine_ = &TheSharedEngine();
    Rebuild(api::ApiOptions{});
    token_ = Register("liveness@example.com");
  }
  void Rebuild(api::ApiOptions o) {
    api::ServiceInfo info;
    info.models_health = [] { return core::Status{}; };
    api_ = std::make_unique<api::Api>(*store_, *auth_, o, std::move(info), engine_, nullptr, nullptr);
  }
  Reply Post(const std::string& body, const std::string& type, const std::string& query = "") {
    return Send("POST", "/4/liveness" + query, body, {{"X-Auth-Token", token_}, {"Content-Type", type}});
  }
  static json::array Images(const Reply& r) { return r.Json().at("images").as_array(); }
  static int Prediction(const json::value& image) {
    return static_cast<int>(image.at("liveness").at("prediction").as_int64());
  }
  std::string token_;
};

TEST_F(Liveness, SpoofSamplesAreSpoofsAndTheRealOneIsReal) {
  for (const auto& [file, real] : {std::pair{"image_F1.jpg", false}, {"image_F2.jpg", false}, {"image_T1.jpg", true}}) {
    auto r = Post(Sample(file), "image/jpeg");
    ASSERT_EQ(r.status, 200u) << r.body;
    json::array im = Images(r);
    ASSERT_EQ(im.size(), 1u);
    EXPECT_EQ(im[0].at("filename").as_string(), "");
    EXPECT_EQ(im[0].at("status").as_int64(), 1);
    EXPECT_EQ(Prediction(im[0]), real ? 1 : 0) << file << " " << r.body;
    const double p = im[0].at("liveness").at("estimations").at("probability").to_number<double>();
    const double q = im[0].at("liveness").at("estimations").at("quality").to_number<double>();
    EXPECT_TRUE(p >= 0 && p <= 1 && q >= 0 && q <= 1) << r.body;
    EXPECT_FALSE(r.Json().contains("aggregate_estimations"));
  }
  // The base64 content type gives the same answer.
  auto r = Post(core::Base64Encode(Sample("image_F1.jpg")), "image/x-jpeg-base64");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(Prediction(Images(r)[0]), 0);
}

// Two of the photos are wider than the default image_max_side (4096: 3002); they are measured
// with the setting raised to 8192, through an engine configured so.
TEST_F(Liveness, EveryDeepfacePhotoIsReal) {
  if (!HaveFacesDir("deepface_unit")) GTEST_SKIP();
  face::EngineOptions o;
  o.models_dir = FACEPORT_MODELS_DIR;
  o.max_side = 8192;
  auto big = face::Engine::Create(o);
  ASSERT_TRUE(big) << big.error().log_detail;
  engine_ = big->get();
  Rebuild(api::ApiOptions{});
  int n = 0;
  for (const auto& e : fs::directory_iterator(FacesDir("deepface_unit"))) {
    if (e.path().extension() != ".jpg") continue;
    ++n;
    auto r = Post(AsJpeg(ReadFileBytes(e.path())), "image/jpeg");
    ASSERT_EQ(r.status, 200u) << r.body;
    json::array im = Images(r);
    ASSERT_EQ(im[0].at("status").as_int64(), 1) << e.path() << " " << r.body;
    EXPECT_EQ(Prediction(im[0]), 1) << e.path() << " " << r.body;
  }
  EXPECT_EQ(n, 64);
}

TEST_F(Liveness, MultipartImagesInOrderWithMetaAndAggregate) {
  const std::string body = Multipart("XyZ-123", {{"meta", "", "application/json", R"({"device":"UNKNOWN"})"},
                                                 {"a", "spoof1.jpg", "image/jpeg", Sample("image_F1.jpg")},
                                                 {"whatever", "real.jpg", "image/jpeg", Sample("image_T1.jpg")},
                                                 {"b", "", "image/x-jpeg-base64", core::Base64Encode(Sample("image_F2.jpg"))}});
  auto r = Post(body, "multipart/form-data; boundary=XyZ-123", "?aggregate=1");
  ASSERT_EQ(r.status, 200u) << r.body;
  json::array im = Images(r);
  ASSERT_EQ(im.size(), 3u) << r.body;
  for (const auto& x : im) ASSERT_EQ(x.at("status").as_int64(), 1) << r.body;
  EXPECT_EQ(im[0].at("filename").as_string(), "spoof1.jpg");
  EXPECT_EQ(im[1].at("filename").as_string(), "real.jpg");
  EXPECT_EQ(im[2].at("filename").as_string(), "");
  EXPECT_EQ(Prediction(im[0]), 0);
  EXPECT_EQ(Prediction(im[1]), 1);
  EXPECT_EQ(Prediction(im[2]), 0);
  // The aggregate is the mean of the per-image estimations.
  double mean = 0;
  for (const auto& x : im) mean += x.at("liveness").at("estimations").at("probability").to_number<double>() / 3;
  const json::object whole = r.Json();  // keep the document alive while reading into it
  const json::value& agg = whole.at("aggregate_estimations").at("liveness");
  EXPECT_NEAR(agg.at("estimations").at("probability").to_number<double>(), mean, 2e-4);
  EXPECT_EQ(agg.at("prediction").as_int64(), mean >= 0.5 ? 1 : 0);
}

TEST_F(Liveness, JsonImagesWithOneBrokenImage) {
  json::object body{{"images", json::array{core::Base64Encode(Sample("image_T1.jpg")), "@@not base64@@",
                                            core::Base64Encode("not an image"), core::Base64Encode(PlainJpegOf(320, 240)),
                                            core::Base64Encode(Sample("image_F2.jpg"))}},
                    {"meta", json::object{{"x_meta", "anything"}}}};
  auto r = Post(json::serialize(body), "application/json", "?aggregate=1");
  ASSERT_EQ(r.status, 200u) << r.body;
  json::array im = Images(r);
  ASSERT_EQ(im.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(im[i].at("filename").as_string(), std::to_string(i));
  EXPECT_EQ(Prediction(im[0]), 1);
  const int want[] = {0, 18001, 3001, 4003, 0};
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(im[i].at("status").as_int64(), 0);
    EXPECT_FALSE(im[i].as_object().contains("liveness"));
    EXPECT_EQ(im[i].at("error").at("error_code").as_int64(), want[i]) << json::serialize(im[i]);
    EXPECT_TRUE(im[i].at("error").at("detail").is_string());
  }
  EXPECT_EQ(Prediction(im[4]), 0);
  // The aggregate covers the two estimated images only.
  const double mean = (im[0].at("liveness").at("estimations").at("probability").to_number<double>() +
                       im[4].at("liveness").at("estimations").at("probability").to_number<double>()) / 2;
  EXPECT_NEAR(r.Json().at("aggregate_estimations").at("liveness").at("estimations").at("probability").to_number<double>(),
              mean, 2e-4);
  // Every image broken: 200, no aggregate estimation.
  r = Post(json::serialize(json::object{{"images", json::array{"@@"}}}), "application/json", "?aggregate=1");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_TRUE(r.Json().at("aggregate_estimations").at("liveness").is_null());
}

TEST_F(Liveness, WarpedSamplesAreRefusedPerImage) {
  auto img = engine_->Decode(Sample("image_T1.jpg"), std::nullopt, false, true);
  auto faces = engine_->Detect(*img, 1);
  ASSERT_TRUE(faces && !faces->empty());
  auto warped = engine_->Warp(*img, faces->front());
  ASSERT_TRUE(warped);
  const std::string jpeg = *engine_->EncodeJpeg(*warped);
  const std::string body = Multipart("b", {{"w", "warped.jpg", "image/jpeg", jpeg}, {"r", "real.jpg", "image/jpeg", Sample("image_T1.jpg")}});
  auto r = Post(body, "multipart/form-data; boundary=b");
  ASSERT_EQ(r.status, 200u) << r.body;
  json::array im = Images(r);
  EXPECT_EQ(im[0].at("status").as_int64(), 0);
  EXPECT_EQ(im[0].at("error").at("error_code").as_int64(), 12018) << r.body;
  EXPECT_NE(std::string(im[0].at("error").at("detail").as_string()).find("warped"), std::string::npos);
  EXPECT_EQ(im[1].at("status").as_int64(), 1);
}

TEST_F(Liveness, LimitsOnTheNumberAndSizeOfImages) {
  api::ApiOptions o;
  o.liveness_max_images = 2;
  o.liveness_max_image_bytes = 100000;
  Rebuild(o);
  const std::string small = Sample("image_T1.jpg");
  ASSERT_LT(small.size(), 100000u);
  const std::string big(100001, 'x');
  auto three = json::serialize(json::object{{"images", json::array{core::Base64Encode(small), core::Base64Encode(small),
                                                                   core::Base64Encode(small)}}});
  auto r = Post(three, "application/json");
  EXPECT_EQ(r.status, 413u) << r.body;
  EXPECT_EQ(r.ErrorCode(), 23001);
  r = Post(Multipart("b", {{"1", "", "image/jpeg", small}, {"2", "", "image/jpeg", small}, {"3", "", "image/jpeg", small}}),
           "multipart/form-data; boundary=b");
  EXPECT_EQ(r.ErrorCode(), 23001) << r.body;
  r = Post(Multipart("b", {{"1", "", "image/jpeg", big}}), "multipart/form-data; boundary=b");
  EXPECT_EQ(r.ErrorCode(), 23001) << r.body;
  r = Post(big, "image/jpeg");
  EXPECT_EQ(r.ErrorCode(), 23001) << r.body;
  r = Post(json::serialize(json::object{{"images", json::array{std::string(100001, 'A')}}}), "application/json");
  EXPECT_EQ(r.ErrorCode(), 23001) << r.body;
  // Two small images are fine.
  r = Post(Multipart("b", {{"1", "", "image/jpeg", small}, {"2", "", "image/jpeg", small}}), "multipart/form-data; boundary=b");
  EXPECT_EQ(r.status, 200u) << r.body;
}

TEST_F(Liveness, RequestErrors) {
  struct Case {
    std::string body, type, query;
    int code;
  };
  const std::string jpg = Sample("image_T1.jpg");
  const std::vector<Case> cases = {
      {jpg, "text/plain", "", 12017},
      {jpg, "", "", 12017},
      {jpg, "image/jpeg", "?aggregate=2", 12012},
      {"{", "application/json", "", 12002},
      {R"({"images":[]})", "application/json", "", 12022},
      {R"({"images":"x"})", "application/json", "", 12022},
      {R"({"images":["AAAA"],"meta":3})", "application/json", "", 12022},
      {R"({"images":["AAAA"],"other":1})", "application/json", "", 12022},
      {jpg, "multipart/form-data", "", 12025},                                  // no boundary
      {jpg, "multipart/form-data; boundary=b", "", 12025},                      // no delimiter
      {"--b\r\nContent-Type: image/jpeg\r\n\r\nxx\r\n--b--", "multipart/form-data; boundary=b", "", 12025},  // no disposition
      {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: image/jpeg\r\n\r\nxx",
       "multipart/form-data; boundary=b", "", 12025},                           // unterminated
      {Multipart("b", {{"meta", "", "application/json", "{}"}}), "multipart/form-data; boundary=b", "", 12025},  // no image
      {Multipart("b", {{"note", "", "text/plain", "hi"}, {"i", "", "image/jpeg", jpg}}), "multipart/form-data; boundary=b", "",
       12025},
      {Multipart("b", {{"meta", "", "", "[1]"}, {"i", "", "image/jpeg", jpg}}), "multipart/form-data; boundary=b", "", 12022},
  };
  for (const auto& c : cases) {
    auto r = Post(c.body, c.type, c.query);
    EXPECT_EQ(r.status, 400u) << c.type << " " << c.query << " " << r.body;
    EXPECT_EQ(r.ErrorCode(), c.code) << c.type << " " << c.query << " " << r.body.substr(0, 200);
  }
  EXPECT_EQ(Send("POST", "/4/liveness", jpg, {{"Content-Type", "image/jpeg"}}).ErrorCode(), 12010);
  EXPECT_EQ(Send("GET", "/4/liveness", "", Token(token_)).ErrorCode(), 12021);
}

}  // namespace fptest
