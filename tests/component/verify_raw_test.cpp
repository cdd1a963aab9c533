// Batch verification POST /4/handlers/verify/raw through the real router: JSON and msgpack
// bodies (msgpack built here with msgpuck's mp_encode_*), every reference against every
// candidate, id echo and order, the threshold, and every error. No engine: the Api is built
// with ApiOptions::descriptor_version = 1 and descriptor_size = 512.
#include <msgpuck.h>

#include <cmath>
#include <limits>
#include <optional>
#include <random>

#include "api_fixture.hpp"
#include "core/base64.hpp"
#include "face/descriptor_codec.hpp"
#include "face/similarity.hpp"

namespace fptest {
namespace json = boost::json;

namespace {
constexpr uint32_t kVersion = 1;
constexpr std::size_t kDim = 512;
const char* kPath = "/4/handlers/verify/raw";

std::vector<float> RandomUnit(std::mt19937& rng) {
  std::normal_distribution<float> n;
  std::vector<float> v(kDim);
  double s = 0;
  for (auto& x : v) {
    x = n(rng);
    s += double(x) * x;
  }
  for (auto& x : v) x = static_cast<float>(x / std::sqrt(s));
  return v;
}

// a and b unit vectors with cosine exactly c (up to float rounding): e0 and c e0 + sqrt(1-c²) e1.
std::pair<std::vector<float>, std::vector<float>> PairWithCosine(float c) {
  std::vector<float> a(kDim, 0.f), b(kDim, 0.f);
  a[0] = 1.f;
  b[0] = c;
  b[1] = std::sqrt(1.f - c * c);
  return {a, b};
}

double Cos(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    s += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  return s / std::sqrt(na * nb);
}

std::string Sdk(const std::vector<float>& v, uint32_t version = kVersion) {
  return face::EncodeDescriptor(face::Descriptor{version, v});
}
std::string Raw(const std::vector<float>& v) { return Sdk(v).substr(face::kDescriptorHeaderSize); }

struct Ent {
  Ent(std::optional<std::string> i, std::string t, std::string b, std::optional<int64_t> v = std::nullopt,
      bool str = false)
      : id(std::move(i)), type(std::move(t)), bytes(std::move(b)), version(v), as_str(str) {}
  std::optional<std::string> id;
  std::string type;   // sdk_descriptor | raw_descriptor | anything (errors)
  std::string bytes;  // binary; base64-encoded in JSON bodies
  std::optional<int64_t> version;
  bool as_str = false;  // msgpack: send data as str instead of bin
};

json::object EntJson(const Ent& e) {
  json::object o{{"type", e.type}, {"data", core::Base64Encode(e.bytes)}};
  if (e.id) o["id"] = *e.id;
  if (e.version) o["version"] = *e.version;
  return o;
}

json::object BodyJson(const std::vector<Ent>& refs, const std::vector<Ent>& cands) {
  json::array r, c;
  for (const auto& e : refs) r.push_back(EntJson(e));
  for (const auto& e : cands) c.push_back(EntJson(e));
  return json::object{{"references", std::move(r)}, {"candidates", std::move(c)}};
}

// A tiny msgpack writer over msgpuck.
struct Mp {
  std::string buf;
  template <class F>
  Mp& Put(F f) {
    char tmp[16];
    char* end = f(tmp);
    buf.append(tmp, static_cast<std::size_t>(end - tmp));
    return *this;
  }
  Mp& Map(uint32_t n) { return Put([n](char* p) { return mp_encode_map(p, n); }); }
  Mp& Array(uint32_t n) { return Put([n](char* p) { return mp_encode_array(p, n); }); }
  Mp& Uint(uint64_t v) { return Put([v](char* p) { return mp_encode_uint(p, v); }); }
  Mp& Str(std::string_view s) {
    Put([&](char* p) { return mp_encode_strl(p, static_cast<uint32_t>(s.size())); });
    buf.append(s);
    return *this;
  }
  Mp& Bin(std::string_view s) {
    Put([&](char* p) { return mp_encode_binl(p, static_cast<uint32_t>(s.size())); });
    buf.append(s);
    return *this;
  }
  Mp& Ent(const fptest::Ent& e) {
    Map(2 + (e.id ? 1 : 0) + (e.version ? 1 : 0));
    if (e.id) Str("id").Str(*e.id);
    Str("type").Str(e.type);
    Str("data");
    e.as_str ? Str(e.bytes) : Bin(e.bytes);
    if (e.version) Str("version").Uint(static_cast<uint64_t>(*e.version));
    return *this;
  }
};

std::string BodyMsgpack(const std::vector<Ent>& refs, const std::vector<Ent>& cands) {
  Mp m;
  m.Map(2).Str("references").Array(static_cast<uint32_t>(refs.size()));
  for (const auto& e : refs) m.Ent(e);
  m.Str("candidates").Array(static_cast<uint32_t>(cands.size()));
  for (const auto& e : cands) m.Ent(e);
  return m.buf;
}

double Expected(double cosine) {
  return std::round(static_cast<double>(face::SimilarityFromCosine(static_cast<float>(cosine))) * 1e6) / 1e6;
}
}  // namespace

class VerifyRaw : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped()) return;  // backend not available here
    token_ = Register("raw@example.com");
    Rebuild(face::kDefaultVerifyThreshold);
  }
  void Rebuild(double threshold) {
    api::ApiOptions o;
    o.verify_threshold = threshold;
    o.descriptor_version = kVersion;
    o.descriptor_size = kDim;
    api::ServiceInfo info;
    info.models_health = [] { return core::Status{}; };
    api_ = std::make_unique<api::Api>(*store_, *auth_, o, std::move(info));
  }
  Reply PostJson(const json::value& body) { return SendJson("POST", kPath, body, Token(token_)); }
  Reply PostMsgpack(const std::string& body) {
    auto h = Token(token_);
    h.emplace_back("Content-Type", "application/msgpack");
    return Send("POST", kPath, body, h);
  }
  // The 12022 message of a reply (the detail's text).
  static std::string Detail(const Reply& r) { return std::string(r.Json().at("detail").as_string()); }

  std::string token_;
};

TEST(VerifyRawDefaults, ThresholdIsTheFar1e4OperatingPoint) {
  EXPECT_EQ(api::ApiOptions{}.verify_threshold, face::kDefaultVerifyThreshold);
  EXPECT_NEAR(face::SimilarityFromCosine(face::kCosineFar1e4), face::kDefaultVerifyThreshold, 0.005);
}

TEST_F(VerifyRaw, JsonEveryReferenceAgainstEveryCandidateInOrder) {
  std::mt19937 rng(7);
  std::vector<std::vector<float>> r = {RandomUnit(rng), RandomUnit(rng), RandomUnit(rng)};
  std::vector<std::vector<float>> c = {RandomUnit(rng), r[0], RandomUnit(rng), RandomUnit(rng)};
  // Not unit length: the service normalises (the similarity of a scaled copy is still 1).
  std::vector<float> scaled = r[1];
  for (auto& x : scaled) x *= 3.f;
  c[3] = scaled;
  std::vector<Ent> refs = {{"ref-a", "sdk_descriptor", Sdk(r[0])},
                           {std::nullopt, "raw_descriptor", Raw(r[1])},
                           {"ref-c", "raw_descriptor", Raw(r[2]), kVersion}};
  std::vector<Ent> cands = {{"c0", "sdk_descriptor", Sdk(c[0]), kVersion},
                            {"same-as-a", "raw_descriptor", Raw(c[1])},
                            {std::nullopt, "sdk_descriptor", Sdk(c[2])},
                            {"scaled-b", "raw_descriptor", Raw(c[3])}};
  auto rep = PostJson(BodyJson(refs, cands));
  ASSERT_EQ(rep.status, 200u) << rep.body;
  auto matches = rep.Json().at("matches").as_array();
  ASSERT_EQ(matches.size(), 3u);
  EXPECT_EQ(matches[0].at("reference_id"), json::value("ref-a"));
  EXPECT_TRUE(matches[1].at("reference_id").is_null());
  EXPECT_EQ(matches[2].at("reference_id"), json::value("ref-c"));
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& cs = matches[i].at("candidates").as_array();
    ASSERT_EQ(cs.size(), 4u);
    EXPECT_EQ(cs[0].at("candidate_id"), json::value("c0"));
    EXPECT_EQ(cs[1].at("candidate_id"), json::value("same-as-a"));
    EXPECT_TRUE(cs[2].at("candidate_id").is_null());
    EXPECT_EQ(cs[3].at("candidate_id"), json::value("scaled-b"));
    for (std::size_t j = 0; j < 4; ++j) {
      const double s = cs[j].at("similarity").to_number<double>();
      const bool identical = (i == 0 && j == 1) || (i == 1 && j == 3);
      if (identical) {
        EXPECT_EQ(s, 1.0) << i << "," << j;
        EXPECT_EQ(cs[j].at("status"), json::value(true));
      } else {
        EXPECT_NEAR(s, Expected(Cos(r[i], c[j])), 2e-6) << i << "," << j;
        EXPECT_LT(s, 0.2);  // random 512-d unit vectors: cosine ~ N(0, 0.044)
        EXPECT_EQ(cs[j].at("status"), json::value(false));
      }
    }
  }
  // Basic credentials are accepted too (TokenOrBasic); no credentials are not.
  auto basic = SendJson("POST", kPath, BodyJson(refs, cands), Basic("raw@example.com"));
  EXPECT_EQ(basic.status, 200u) << basic.body;
  auto none = SendJson("POST", kPath, BodyJson(refs, cands));
  EXPECT_EQ(none.status, 401u);
  EXPECT_EQ(none.ErrorCode(), 12010);
}

TEST_F(VerifyRaw, MsgpackBinAndStrGiveTheJsonAnswer) {
  std::mt19937 rng(11);
  auto a = RandomUnit(rng), b = RandomUnit(rng), d = RandomUnit(rng);
  std::vector<Ent> refs = {{"a", "sdk_descriptor", Sdk(a)}, {"b", "raw_descriptor", Raw(b), kVersion, true}};
  std::vector<Ent> cands = {{"d", "raw_descriptor", Raw(d)}, {"a-again", "sdk_descriptor", Sdk(a), std::nullopt, true}};
  auto mp = PostMsgpack(BodyMsgpack(refs, cands));
  ASSERT_EQ(mp.status, 200u) << mp.body;
  EXPECT_EQ(*mp.Header("Content-Type"), "application/json");
  auto js = PostJson(BodyJson(refs, cands));
  ASSERT_EQ(js.status, 200u) << js.body;
  EXPECT_EQ(mp.Json(), js.Json());
  auto m = mp.Json().at("matches").as_array();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].at("reference_id"), json::value("a"));
  EXPECT_EQ(m[1].at("reference_id"), json::value("b"));
  EXPECT_EQ(m[0].at("candidates").as_array()[1].at("candidate_id"), json::value("a-again"));
  EXPECT_EQ(m[0].at("candidates").as_array()[1].at("similarity").to_number<double>(), 1.0);
  EXPECT_EQ(m[0].at("candidates").as_array()[1].at("status"), json::value(true));
  EXPECT_EQ(m[1].at("candidates").as_array()[0].at("status"), json::value(false));
  // Content-Type parameters are ignored.
  auto h = Token(token_);
  h.emplace_back("Content-Type", "application/msgpack; charset=binary");
  EXPECT_EQ(Send("POST", kPath, BodyMsgpack(refs, cands), h).status, 200u);
}

TEST_F(VerifyRaw, StatusFollowsVerifyThreshold) {
  auto [a, b] = PairWithCosine(0.40f);  // similarity ~0.65: below FAR 1e-4 (0.67)
  auto [c, d] = PairWithCosine(0.43f);  // ~0.71: above
  std::vector<Ent> refs = {{"a", "raw_descriptor", Raw(a)}};
  std::vector<Ent> cands = {{"b", "raw_descriptor", Raw(b)}, {"d", "raw_descriptor", Raw(d)}};
  auto cands_of = [&](const Reply& r) { return r.Json().at("matches").as_array()[0].at("candidates").as_array(); };
  auto rep = PostJson(BodyJson(refs, cands));
  ASSERT_EQ(rep.status, 200u) << rep.body;
  auto cs = cands_of(rep);
  EXPECT_NEAR(cs[0].at("similarity").to_number<double>(), Expected(0.40), 2e-6);
  EXPECT_EQ(cs[0].at("status"), json::value(false));
  EXPECT_EQ(cs[1].at("status"), json::value(true));
  Rebuild(0.5);
  cs = cands_of(PostJson(BodyJson(refs, cands)));
  EXPECT_EQ(cs[0].at("status"), json::value(true));
  Rebuild(0.9);
  cs = cands_of(PostJson(BodyJson(refs, cands)));
  EXPECT_EQ(cs[1].at("status"), json::value(false));
  // status is similarity >= threshold on the reported similarity.
  Rebuild(cs[1].at("similarity").to_number<double>());
  cs = cands_of(PostJson(BodyJson(refs, cands)));
  EXPECT_EQ(cs[1].at("status"), json::value(true));
}

// The account's verify handler policy decides, once PATCHed; the setting is only its default.
// Another account keeps the default.
TEST_F(VerifyRaw, StatusFollowsTheAccountsVerifyHandlerPolicy) {
  auto [a, b] = PairWithCosine(0.40f);  // ~0.65: below the default 0.67
  std::vector<Ent> refs = {{"a", "raw_descriptor", Raw(a)}};
  std::vector<Ent> cands = {{"b", "raw_descriptor", Raw(b)}};
  auto status_of = [&](const Reply& r) {
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.Json().at("matches").as_array()[0].at("candidates").as_array()[0].at("status");
  };
  EXPECT_EQ(status_of(PostJson(BodyJson(refs, cands))), json::value(false));
  auto r = SendJson("PATCH", "/4/handlers/verify", json::object{{"verify_threshold", 0.6}}, Token(token_));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(status_of(PostJson(BodyJson(refs, cands))), json::value(true));
  // The setting no longer matters for this account once its policy is set.
  Rebuild(0.99);
  EXPECT_EQ(status_of(PostJson(BodyJson(refs, cands))), json::value(true));
  const std::string other = Register("raw-other@example.com");
  EXPECT_EQ(status_of(SendJson("POST", kPath, BodyJson(refs, cands), Token(other))), json::value(false));
}

TEST_F(VerifyRaw, DescriptorErrorsNameWhatWasExpected) {
  std::mt19937 rng(3);
  auto v = RandomUnit(rng);
  const Ent good{"g", "sdk_descriptor", Sdk(v)};
  auto post = [&](const Ent& bad, bool as_ref) {
    return as_ref ? PostJson(BodyJson({bad}, {good})) : PostJson(BodyJson({good, good}, {good, bad}));
  };
  // Bad base64 (JSON bodies only).
  {
    auto body = BodyJson({good}, {good});
    body["candidates"].as_array()[0].as_object()["data"] = "not base64!";
    auto r = PostJson(body);
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(r.ErrorCode(), 18001) << r.body;
  }
  struct Case {
    Ent e;
    std::string field, needle;
  };
  std::vector<float> zero(kDim, 0.f), nan = v;
  nan[5] = std::numeric_limits<float>::quiet_NaN();
  std::string bad_magic = Sdk(v);
  bad_magic[0] = 'x';
  const std::vector<Case> cases = {
      {{"x", "sdk_descriptor", Sdk(v, 2)}, "data", "has descriptor version 2, expected version 1"},
      {{"x", "sdk_descriptor", Sdk(v).substr(0, 2052)}, "data", "must be an sdk_descriptor of 2056 bytes"},
      {{"x", "sdk_descriptor", Raw(v)}, "data", "got 2048 bytes"},
      {{"x", "sdk_descriptor", bad_magic}, "data", "must begin with the magic dp00"},
      {{"x", "raw_descriptor", Sdk(v)}, "data", "must be a raw_descriptor of 2048 bytes (512 float32), got 2056 bytes"},
      {{"x", "raw_descriptor", Raw(v), 3}, "version", "version must be 1"},
      {{"x", "sdk_descriptor", Sdk(v), 2}, "version", "version must be 1"},
      {{"x", "raw_descriptor", Raw(zero)}, "data", "is a zero vector"},
      {{"x", "raw_descriptor", Raw(nan)}, "data", "not a finite number"},
  };
  for (const auto& c : cases) {
    for (bool as_ref : {true, false}) {
      auto r = post(c.e, as_ref);
      EXPECT_EQ(r.status, 400u) << c.needle;
      EXPECT_EQ(r.ErrorCode(), 12022) << c.needle << ": " << r.body;
      const std::string path = (as_ref ? "references[0]." : "candidates[1].") + c.field;
      EXPECT_NE(Detail(r).find("Path: '" + path + "'"), std::string::npos) << r.body;
      EXPECT_NE(Detail(r).find(c.needle), std::string::npos) << r.body;
    }
  }
  // The same checks on msgpack bodies.
  auto r = PostMsgpack(BodyMsgpack({good}, {Ent{"x", "sdk_descriptor", Sdk(v, 2)}}));
  EXPECT_EQ(r.ErrorCode(), 12022) << r.body;
  EXPECT_NE(Detail(r).find("expected version 1"), std::string::npos) << r.body;
}

TEST_F(VerifyRaw, SchemaAndSizeLimits) {
  const Ent e{"x", "raw_descriptor", "junk (not checked before the shape)"};
  auto expect_12022 = [&](const Reply& r, const std::string& needle) {
    EXPECT_EQ(r.status, 400u) << needle;
    EXPECT_EQ(r.ErrorCode(), 12022) << r.body;
    EXPECT_NE(Detail(r).find(needle), std::string::npos) << r.body;
  };
  expect_12022(PostJson(BodyJson({}, {e})), "references must contain at least 1 items");
  expect_12022(PostJson(BodyJson({e}, {})), "candidates must contain at least 1 items");
  expect_12022(PostMsgpack(BodyMsgpack({e}, {})), "candidates must contain at least 1 items");
  expect_12022(PostJson(json::object{{"candidates", json::array{EntJson(e)}}}), "references is a required property");
  expect_12022(PostJson(BodyJson(std::vector<Ent>(1001, e), {e})),
               "references must contain less than or equal to 1000 items");
  expect_12022(PostJson(BodyJson({e}, std::vector<Ent>(1001, e))),
               "candidates must contain less than or equal to 1000 items");
  expect_12022(PostMsgpack(BodyMsgpack(std::vector<Ent>(1001, e), {e})),
               "references must contain less than or equal to 1000 items");
  // 400 x 300 = 120000 comparisons > 100000.
  expect_12022(PostJson(BodyJson(std::vector<Ent>(400, e), std::vector<Ent>(300, e))),
               "references x candidates must be at most 100000 comparisons, got 400 x 300");
  expect_12022(PostJson(BodyJson({Ent{"x", "xpk_file", "abc"}}, {e})), "references[0].type must be one of");
  {
    auto body = BodyJson({e}, {e});
    body["references"].as_array()[0].as_object().erase("type");
    expect_12022(PostJson(body), "references[0].type is a required property");
    body = BodyJson({e}, {e});
    body["candidates"].as_array()[0].as_object()["data"] = 5;
    expect_12022(PostJson(body), "candidates[0].data must be string");
    body = BodyJson({e}, {e});
    body["candidates"].as_array()[0].as_object()["id"] = 5;
    expect_12022(PostJson(body), "candidates[0].id must be string");
    body = BodyJson({e}, {e});
    body["extra"] = 1;
    expect_12022(PostJson(body), "extra is not an allowed property");
  }
  // A msgpack document that is not a map.
  Mp arr;
  arr.Array(1).Uint(1);
  expect_12022(PostMsgpack(arr.buf), "data must be object");
}

TEST_F(VerifyRaw, UnparsableBodiesAndContentTypes) {
  std::mt19937 rng(5);
  const Ent good{"g", "sdk_descriptor", Sdk(RandomUnit(rng))};
  const std::string mp = BodyMsgpack({good}, {good});
  auto expect = [](const Reply& r, unsigned status, int code, const std::string& what) {
    EXPECT_EQ(r.status, status) << what;
    EXPECT_EQ(r.ErrorCode(), code) << what << ": " << r.body;
  };
  // Bad msgpack: 12002, as for a body that is not JSON.
  expect(PostMsgpack(""), 400, 12002, "empty");
  expect(PostMsgpack(mp.substr(0, mp.size() - 10)), 400, 12002, "truncated");
  expect(PostMsgpack(mp + '\x01'), 400, 12002, "trailing bytes");
  expect(PostMsgpack(std::string("\xc1", 1)), 400, 12002, "reserved byte 0xc1");
  Mp ext;  // a map with a non-string key
  ext.Map(1).Uint(1).Uint(2);
  expect(PostMsgpack(ext.buf), 400, 12002, "integer key");
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += '\x91';  // fixarray of 1, nested
  deep += '\xc0';
  expect(PostMsgpack(deep), 400, 12002, "too deep");
  // Bad JSON.
  auto h = Token(token_);
  h.emplace_back("Content-Type", "application/json");
  expect(Send("POST", kPath, "{\"references\": [", h), 400, 12002, "json");
  // Unsupported or missing Content-Type.
  auto t = Token(token_);
  t.emplace_back("Content-Type", "text/plain");
  expect(Send("POST", kPath, mp, t), 400, 12017, "text/plain");
  expect(Send("POST", kPath, mp, Token(token_)), 400, 12017, "none");
  // OPTIONS lists the method.
  auto o = Send("OPTIONS", kPath);
  EXPECT_EQ(o.status, 200u);
  EXPECT_NE(o.Header("Allow")->find("POST"), std::string::npos);
}

TEST_F(VerifyRaw, WithoutAnEngineOrVersionIsAnInternalError) {
  api::ServiceInfo info;
  api_ = std::make_unique<api::Api>(*store_, *auth_, api::ApiOptions{}, std::move(info));
  std::mt19937 rng(9);
  const Ent good{"g", "sdk_descriptor", Sdk(RandomUnit(rng))};
  auto r = PostJson(BodyJson({good}, {good}));
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(r.ErrorCode(), 1);
}

}  // namespace fptest
