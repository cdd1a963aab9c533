// Family M (verify, identify, raw match, search) through the real router, a real SQLite file,
// the real face engine on real photos and the real matching index kept by api::IndexFollower.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "api/index_follower.hpp"
#include "api_fixture.hpp"
#include "core/clock.hpp"
#include "core/uuid.hpp"
#include "face/descriptor_codec.hpp"
#include "face/engine.hpp"
#include "face/similarity.hpp"
#include "face_helpers.hpp"

namespace fptest {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {
const std::string kFaces = FacesDir("deepface_unit");
// FAR 1e-4 on LFW (docs/FACE_ENGINE.md): cosine 0.41.
const double kFar1e4 = face::SimilarityFromCosine(0.41f);

bool HaveFaces() { return fs::exists(kFaces + "/identities.csv"); }
}  // namespace

class Matching : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped()) return;  // backend not available here
    UseFaceEngine(TheSharedEngine(), /*matching=*/true);
    if (HasFatalFailure()) return;
    token_ = Register("match@example.com");
  }
  http::Fields Auth(const std::string& token = "") { return {{"X-Auth-Token", token.empty() ? token_ : token}}; }
  Reply Post(const std::string& target, const std::string& token = "") { return Send("POST", target, "", Auth(token)); }

  std::string Extract(const std::string& file, const std::string& token = "") {
    auto h = Auth(token);
    h.emplace_back("Content-Type", "image/jpeg");
    auto r = Send("POST", "/4/storage/descriptors", ReadFileBytes(kFaces + "/" + file), h);
    EXPECT_EQ(r.status, 201u) << file << " " << r.body;
    if (r.status != 201) return "";
    return std::string(r.Json().at("faces").as_array().at(0).as_object().at("id").as_string());
  }
  std::string Upload(const std::vector<float>& v, const std::string& token = "") {
    auto h = Auth(token);
    h.emplace_back("Content-Type", "application/x-vl-face-descriptor");
    auto r = Send("POST", "/4/storage/descriptors",
                  face::EncodeDescriptor(face::Descriptor{engine_->descriptor_version(), v}), h);
    EXPECT_EQ(r.status, 201u) << r.body;
    return std::string(r.Json().at("faces").as_array().at(0).as_object().at("id").as_string());
  }
  std::vector<float> RandomUnit() {
    std::normal_distribution<float> n;
    std::vector<float> v(engine_->descriptor_size());
    double s = 0;
    for (auto& x : v) {
      x = n(rng_);
      s += double(x) * x;
    }
    for (auto& x : v) x = float(x / std::sqrt(s));
    return v;
  }
  std::string Person(const std::string& user_data = "", const std::string& token = "") {
    auto h = Auth(token);
    h.emplace_back("Content-Type", "application/json");
    auto r = Send("POST", "/4/storage/persons",
                  json::serialize(json::object{{"user_data", user_data}, {"external_id", "ext-" + user_data}}), h);
    EXPECT_EQ(r.status, 201u) << r.body;
    return std::string(r.Json().at("person_id").as_string());
  }
  void Attach(const std::string& person, const std::string& descriptor, const std::string& token = "") {
    auto r = Send("PATCH", "/4/storage/persons/" + person + "/linked_descriptors?do=attach&descriptor_id=" + descriptor,
                  "", Auth(token));
    EXPECT_EQ(r.status, 204u) << r.body;
  }
  std::string List(const std::string& type, const std::string& token = "") {
    auto r = Send("POST", "/4/storage/lists?type=" + type, "", Auth(token));
    EXPECT_EQ(r.status, 201u) << r.body;
    return std::string(r.Json().at("list_id").as_string());
  }
  void Link(const std::string& list, const std::string& key, const std::vector<std::string>& ids,
            const std::string& token = "") {
    json::array a;
    for (const auto& i : ids) a.push_back(json::value(i));
    auto h = Auth(token);
    h.emplace_back("Content-Type", "application/json");
    auto r = Send("PATCH", "/4/storage/linker",
                  json::serialize(json::object{{"action", "attach"}, {"list_id", list}, {key, a}}), h);
    EXPECT_EQ(r.status, 204u) << r.body;
  }
  static json::array Candidates(const Reply& r) { return r.Json().at("candidates").as_array(); }
  static double Sim(const json::value& c) { return c.as_object().at("similarity").to_number<double>(); }

  std::string token_;
  std::mt19937 rng_{7};
};

// ---- real photos --------------------------------------------------------------------------

TEST_F(Matching, VerifySameIdentityAboveFar1e4AndOtherIdentityBelow) {
  if (!HaveFaces()) GTEST_SKIP() << "no " << kFaces;
  const auto probe = Extract("img1.jpg");       // id00
  const auto same = Person("same");
  Attach(same, Extract("img2.jpg"));            // id00
  const auto other = Person("other");
  Attach(other, Extract("img26.jpg"));          // id01

  auto r = Post("/4/matching/verify?descriptor_id=" + probe + "&person_id=" + same);
  ASSERT_EQ(r.status, 201u) << r.body;
  auto c = Candidates(r);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].at("person_id").as_string(), same);
  EXPECT_EQ(c[0].at("user_data").as_string(), "same");
  EXPECT_EQ(c[0].at("external_id").as_string(), "ext-same");
  EXPECT_GT(Sim(c[0]), kFar1e4);

  r = Post("/4/matching/verify?descriptor_id=" + probe + "&person_id=" + other);
  ASSERT_EQ(r.status, 201u) << r.body;
  c = Candidates(r);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_LT(Sim(c[0]), kFar1e4);
}

TEST_F(Matching, IdentifyOverAPersonsListRanksTheRightPersonFirst) {
  if (!HaveFaces()) GTEST_SKIP() << "no " << kFaces;
  const std::map<std::string, std::vector<std::string>> gallery = {
      {"id00", {"img2.jpg", "img4.jpg"}},
      {"id01", {"img26.jpg", "img28.jpg"}},
      {"id02", {"img8.jpg", "img9.jpg"}},
      {"id03", {"img12.jpg", "img3.jpg"}},
  };
  const std::map<std::string, std::string> probes = {
      {"id00", "img10.jpg"}, {"id01", "img42.jpg"}, {"id02", "img50.jpg"}, {"id03", "img53.jpg"}};
  const auto list = List("persons");
  std::map<std::string, std::string> person_of;
  std::vector<std::string> persons;
  for (const auto& [identity, files] : gallery) {
    const auto p = Person(identity);
    for (const auto& f : files) Attach(p, Extract(f));
    person_of[identity] = p;
    persons.push_back(p);
  }
  Link(list, "person_ids", persons);
  for (const auto& [identity, file] : probes) {
    const auto d = Extract(file);
    auto r = Post("/4/matching/identify?descriptor_id=" + d + "&list_id=" + list);
    ASSERT_EQ(r.status, 201u) << r.body;
    auto c = Candidates(r);
    ASSERT_EQ(c.size(), 3u) << identity;  // default limit
    EXPECT_EQ(c[0].at("person_id").as_string(), person_of[identity]) << identity;
    EXPECT_EQ(c[0].at("user_data").as_string(), identity);
    EXPECT_GT(Sim(c[0]), kFar1e4) << identity;
    for (size_t i = 1; i < c.size(); ++i) EXPECT_GE(Sim(c[i - 1]), Sim(c[i]));
    // The same through person_ids, with limit 5: one candidate per person (4 persons).
    std::string ids;
    for (const auto& p : persons) ids += (ids.empty() ? "" : ",") + p;
    r = Post("/4/matching/identify?descriptor_id=" + d + "&person_ids=" + ids + "&limit=5");
    ASSERT_EQ(r.status, 201u) << r.body;
    c = Candidates(r);
    ASSERT_EQ(c.size(), 4u);
    EXPECT_EQ(c[0].at("person_id").as_string(), person_of[identity]);
  }
  // Reference person: its best descriptor over the candidates.
  auto r = Post("/4/matching/identify?person_id=" + person_of["id01"] + "&list_id=" + list + "&limit=2");
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(Candidates(r)[0].at("person_id").as_string(), person_of["id01"]);
}

TEST_F(Matching, SearchExtractsStoresAndMatchesOneFace) {
  if (!HaveFaces()) GTEST_SKIP() << "no " << kFaces;
  const auto list = List("persons");
  const auto p0 = Person("id00"), p1 = Person("id01");
  Attach(p0, Extract("img1.jpg"));
  Attach(p1, Extract("img26.jpg"));
  Link(list, "person_ids", {p0, p1});
  auto h = Auth();
  h.emplace_back("Content-Type", "image/jpeg");
  auto r = Send("POST", "/4/matching/search?list_id=" + list, ReadFileBytes(kFaces + "/img27.jpg"), h);
  ASSERT_EQ(r.status, 201u) << r.body;
  auto o = r.Json();
  ASSERT_TRUE(o.at("face").as_object().contains("id"));
  const std::string stored(o.at("face").as_object().at("id").as_string());
  EXPECT_EQ(Send("GET", "/4/storage/descriptors/" + stored, "", Auth()).status, 200u);
  auto c = o.at("candidates").as_array();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].at("person_id").as_string(), p1);
  EXPECT_GT(Sim(c[0]), kFar1e4);

  // descriptor candidates
  const auto d0 = Extract("img2.jpg");
  r = Send("POST", "/4/matching/search?descriptor_ids=" + d0, ReadFileBytes(kFaces + "/img1.jpg"), h);
  ASSERT_EQ(r.status, 201u) << r.body;
  c = Candidates(r);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].at("id").as_string(), d0);

  auto before = Send("GET", "/4/storage/descriptors", "", Auth()).Json().at("count").as_int64();
  r = Send("POST", "/4/matching/search?list_id=" + list, ReadFileBytes(kFaces + "/couple.jpg"), h);
  EXPECT_EQ(r.ErrorCode(), 11012) << r.body;
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(Send("GET", "/4/storage/descriptors", "", Auth()).Json().at("count").as_int64(), before);
  std::vector<uint8_t> px(size_t(200) * 200 * 3, 128);
  r = Send("POST", "/4/matching/search?list_id=" + list, *engine_->EncodeJpeg(face::Image::FromBgr(200, 200, px.data())),
           h);
  EXPECT_EQ(r.ErrorCode(), 4003) << r.body;
  r = Send("POST", "/4/matching/search?list_id=" + list + "&extract_descriptor=0", ReadFileBytes(kFaces + "/img1.jpg"), h);
  EXPECT_EQ(r.ErrorCode(), 12018) << r.body;
  r = Send("POST", "/4/matching/search", ReadFileBytes(kFaces + "/img1.jpg"), h);
  EXPECT_EQ(r.ErrorCode(), 12014) << r.body;
}

// ---- errors, precedence, tenancy (uploaded descriptors: no shared data needed) -------------

TEST_F(Matching, ErrorCodes) {
  const auto d = Upload(RandomUnit());
  const auto p = Person("p");
  Attach(p, Upload(RandomUnit()));
  const auto plist = List("persons");
  const auto dlist = List("descriptors");
  const auto unknown = core::NewUuid4();
  auto expect = [&](const std::string& target, unsigned status, int code) {
    auto r = Post(target);
    EXPECT_EQ(r.status, status) << target << " " << r.body;
    EXPECT_EQ(r.ErrorCode(), code) << target << " " << r.body;
  };
  // verify
  expect("/4/matching/verify?person_id=" + p, 400, 12014);
  expect("/4/matching/verify?descriptor_id=" + d, 400, 12014);
  expect("/4/matching/verify?descriptor_id=x&person_id=" + p, 400, 12012);
  expect("/4/matching/verify?descriptor_id=" + unknown + "&person_id=" + p, 400, 11018);
  expect("/4/matching/verify?descriptor_id=" + d + "&person_id=" + unknown, 400, 22007);
  // identify
  expect("/4/matching/identify?list_id=" + plist, 400, 12014);
  expect("/4/matching/identify?descriptor_id=" + d, 400, 12014);
  expect("/4/matching/identify?descriptor_id=" + d + "&list_id=" + plist + "&limit=0", 400, 12012);
  expect("/4/matching/identify?descriptor_id=" + d + "&list_id=" + plist + "&limit=6", 400, 12012);
  expect("/4/matching/identify?descriptor_id=" + d + "&person_ids=" + p + ",nope", 400, 12012);
  expect("/4/matching/identify?descriptor_id=" + unknown + "&list_id=" + plist, 400, 11018);
  expect("/4/matching/identify?person_id=" + unknown + "&list_id=" + plist, 400, 22007);
  expect("/4/matching/identify?descriptor_id=" + d + "&list_id=" + unknown, 400, 22003);
  expect("/4/matching/identify?descriptor_id=" + d + "&list_id=" + dlist, 400, 22010);
  expect("/4/matching/identify?descriptor_id=" + d + "&person_ids=" + p + "," + unknown, 400, 11020);
  // match
  expect("/4/matching/match?descriptor_id=" + d, 400, 12014);
  expect("/4/matching/match?descriptor_id=" + d + "&list_id=" + plist, 400, 22010);
  expect("/4/matching/match?descriptor_id=" + d + "&list_id=" + unknown, 400, 22003);
  expect("/4/matching/match?descriptor_id=" + d + "&descriptor_ids=" + d + "," + unknown, 400, 11020);
  // search: candidates are checked before the body
  auto h = Auth();
  h.emplace_back("Content-Type", "image/jpeg");
  auto r = Send("POST", "/4/matching/search?list_id=" + unknown, "x", h);
  EXPECT_EQ(r.ErrorCode(), 22003) << r.body;
  r = Send("POST", "/4/matching/search?descriptor_ids=" + unknown, "x", h);
  EXPECT_EQ(r.ErrorCode(), 11020) << r.body;
}

TEST_F(Matching, EmptyCandidatesPrecedenceAndDescriptorCandidates) {
  auto v = RandomUnit();
  const auto d = Upload(v);
  const auto near = Upload(v);  // identical vector: similarity ~1
  const auto far = Upload(RandomUnit());
  const auto nobody = Person("nobody");
  const auto plist = List("persons");
  const auto dlist = List("descriptors");
  // Person reference without descriptors; empty lists (never had a member).
  auto r = Post("/4/matching/identify?person_id=" + nobody + "&list_id=" + plist);
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_TRUE(Candidates(r).empty());
  r = Post("/4/matching/verify?descriptor_id=" + d + "&person_id=" + nobody);
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_TRUE(Candidates(r).empty());
  r = Post("/4/matching/match?descriptor_id=" + d + "&list_id=" + dlist);
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_TRUE(Candidates(r).empty());

  // Raw match over descriptor_ids: {"id","similarity"}, best first.
  r = Post("/4/matching/match?descriptor_id=" + d + "&descriptor_ids=" + far + "," + near);
  ASSERT_EQ(r.status, 201u) << r.body;
  auto c = Candidates(r);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].at("id").as_string(), near);
  EXPECT_EQ(c[0].as_object().size(), 2u);
  EXPECT_GT(Sim(c[0]), 0.99);
  EXPECT_LT(Sim(c[1]), Sim(c[0]));
  // list_id wins over descriptor_ids; person_id wins over descriptor_id.
  Link(dlist, "descriptor_ids", {far});
  r = Post("/4/matching/match?descriptor_id=" + d + "&descriptor_ids=" + near + "&list_id=" + dlist);
  ASSERT_EQ(r.status, 201u) << r.body;
  c = Candidates(r);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].at("id").as_string(), far);
  r = Post("/4/matching/match?descriptor_id=" + d + "&person_id=" + nobody + "&descriptor_ids=" + near);
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_TRUE(Candidates(r).empty());
}

TEST_F(Matching, AnotherAccountsIdsBehaveAsUnknownOnes) {
  const auto other = Register("other@example.com");
  const auto od = Upload(RandomUnit(), other);
  const auto op = Person("o", other);
  Attach(op, Upload(RandomUnit(), other), other);
  const auto opl = List("persons", other);
  const auto odl = List("descriptors", other);
  Link(opl, "person_ids", {op}, other);
  const auto d = Upload(RandomUnit());
  const auto pl = List("persons");
  const auto dl = List("descriptors");
  auto code = [&](const std::string& t) { return Post(t).ErrorCode(); };
  EXPECT_EQ(code("/4/matching/verify?descriptor_id=" + od + "&person_id=" + Person()), 11018);
  EXPECT_EQ(code("/4/matching/verify?descriptor_id=" + d + "&person_id=" + op), 22007);
  EXPECT_EQ(code("/4/matching/identify?person_id=" + op + "&list_id=" + pl), 22007);
  EXPECT_EQ(code("/4/matching/identify?descriptor_id=" + d + "&list_id=" + opl), 22003);
  EXPECT_EQ(code("/4/matching/identify?descriptor_id=" + d + "&person_ids=" + op), 11020);
  EXPECT_EQ(code("/4/matching/match?descriptor_id=" + d + "&list_id=" + odl), 22003);
  EXPECT_EQ(code("/4/matching/match?descriptor_id=" + d + "&descriptor_ids=" + od), 11020);
  EXPECT_EQ(code("/4/matching/match?descriptor_id=" + od + "&list_id=" + dl), 11018);
  // And the owner sees its own objects.
  auto r = Post("/4/matching/identify?person_id=" + op + "&list_id=" + opl, other);
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(Candidates(r).size(), 1u);
}

TEST_F(Matching, PrecedenceOfAlternativesAndLimitBounds) {
  auto v = RandomUnit();
  const auto ref_d = Upload(v);
  const auto ref_p = Person("ref");
  Attach(ref_p, Upload(RandomUnit()));
  const auto in_list = Person("in_list"), in_ids = Person("in_ids");
  Attach(in_list, Upload(v));  // the same vector as ref_d
  Attach(in_ids, Upload(v));
  const auto plist = List("persons");
  Link(plist, "person_ids", {in_list});
  auto only = [&](const std::string& target) {
    auto r = Post(target);
    EXPECT_EQ(r.status, 201u) << target << " " << r.body;
    std::vector<std::string> out;
    if (r.status != 201) return out;
    auto body = r.Json();
    for (const auto& c : body.at("candidates").as_array())
      out.emplace_back(c.as_object().contains("person_id") ? c.at("person_id").as_string() : c.at("id").as_string());
    return out;
  };
  // identify: list_id wins over person_ids.
  EXPECT_EQ(only("/4/matching/identify?descriptor_id=" + ref_d + "&list_id=" + plist + "&person_ids=" + in_ids),
            std::vector<std::string>{in_list});
  EXPECT_EQ(only("/4/matching/identify?descriptor_id=" + ref_d + "&person_ids=" + in_ids),
            std::vector<std::string>{in_ids});
  // identify: person_id wins over descriptor_id (ref_p's descriptor is a random vector: low
  // similarity to both; ref_d's would be ~1).
  auto r = Post("/4/matching/identify?person_id=" + ref_p + "&descriptor_id=" + ref_d + "&person_ids=" + in_ids);
  ASSERT_EQ(r.status, 201u) << r.body;
  ASSERT_EQ(Candidates(r).size(), 1u);
  EXPECT_LT(Sim(Candidates(r)[0]), 0.5);
  r = Post("/4/matching/identify?descriptor_id=" + ref_d + "&person_ids=" + in_ids);
  ASSERT_EQ(Candidates(r).size(), 1u);
  EXPECT_GT(Sim(Candidates(r)[0]), 0.99);
  // An alternative that is not used must still be well-formed.
  EXPECT_EQ(Post("/4/matching/identify?person_id=" + ref_p + "&descriptor_id=nope&list_id=" + plist).ErrorCode(), 12012);
  EXPECT_EQ(Post("/4/matching/identify?descriptor_id=" + ref_d + "&list_id=" + plist + "&person_ids=x").ErrorCode(),
            12012);
  // limit: 1..5 inclusive, integers only, default 3 (tested above).
  for (const char* bad : {"0", "6", "-1", "1.5", "abc", ""})
    EXPECT_EQ(Post("/4/matching/identify?descriptor_id=" + ref_d + "&list_id=" + plist + "&limit=" + bad).ErrorCode(),
              12012)
        << bad;
  for (const char* bad : {"0", "6"})
    EXPECT_EQ(Post("/4/matching/match?descriptor_id=" + ref_d + "&descriptor_ids=" + ref_d + "&limit=" + bad).ErrorCode(),
              12012)
        << bad;
  std::vector<std::string> many;
  for (int i = 0; i < 7; ++i) many.push_back(Upload(RandomUnit()));
  std::string ids;
  for (const auto& d : many) ids += (ids.empty() ? "" : ",") + d;
  for (int limit = 1; limit <= 5; ++limit) {
    r = Post("/4/matching/match?descriptor_id=" + ref_d + "&descriptor_ids=" + ids + "&limit=" + std::to_string(limit));
    ASSERT_EQ(r.status, 201u) << r.body;
    EXPECT_EQ(Candidates(r).size(), size_t(limit));
  }
  r = Post("/4/matching/match?descriptor_id=" + ref_d + "&descriptor_ids=" + ids);
  EXPECT_EQ(Candidates(r).size(), 3u);
}

TEST_F(Matching, SearchPrecedenceLimitAndExif) {
  if (!HaveFaces()) GTEST_SKIP() << "no " << kFaces;
  const auto p = Person("id00");
  Attach(p, Extract("img2.jpg"));
  const auto d = Extract("img4.jpg");  // id00 too, not attached
  const auto dlist = List("descriptors");
  const auto other = Upload(RandomUnit());
  Link(dlist, "descriptor_ids", {other});
  auto h = Auth();
  h.emplace_back("Content-Type", "image/jpeg");
  const std::string photo = ReadFileBytes(kFaces + "/img1.jpg");
  auto first = [&](const std::string& query) {
    auto r = Send("POST", "/4/matching/search?" + query, photo, h);
    EXPECT_EQ(r.status, 201u) << query << " " << r.body;
    std::string out;
    if (r.status != 201) return out;
    auto body = r.Json();
    const auto& c = body.at("candidates").as_array();
    if (c.empty()) return out;
    out = c[0].as_object().contains("person_id") ? c[0].at("person_id").as_string() : c[0].at("id").as_string();
    return out;
  };
  // list_id (a descriptors list: descriptor candidates) > person_ids > descriptor_ids.
  EXPECT_EQ(first("list_id=" + dlist + "&person_ids=" + p + "&descriptor_ids=" + d), other);
  EXPECT_EQ(first("person_ids=" + p + "&descriptor_ids=" + d), p);
  EXPECT_EQ(first("descriptor_ids=" + d), d);
  for (const char* bad : {"0", "6"}) {
    auto r = Send("POST", "/4/matching/search?descriptor_ids=" + d + "&limit=" + bad, photo, h);
    EXPECT_EQ(r.ErrorCode(), 12012) << bad << " " << r.body;
  }
  // extract_exif=1: the tags at the top level, as POST /4/storage/descriptors answers.
  auto r = Send("POST", "/4/matching/search?descriptor_ids=" + d + "&extract_exif=1", photo, h);
  ASSERT_EQ(r.status, 201u) << r.body;
  auto body = r.Json();
  EXPECT_TRUE(body.at("exif").is_object());
  r = Send("POST", "/4/matching/search?descriptor_ids=" + d, photo, h);
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_FALSE(r.Json().contains("exif"));
}

// The collector's deletes reach the index: a collected descriptor is no candidate and no
// reference any more (the request catches up with the change feed first).
TEST_F(Matching, CollectedDescriptorsLeaveTheIndex) {
  const auto keep = Upload(RandomUnit());
  const auto p = Person("p");
  Attach(p, keep);
  const auto gone = Upload(RandomUnit());
  auto r = Post("/4/matching/match?descriptor_id=" + keep + "&descriptor_ids=" + gone);
  ASSERT_EQ(r.status, 201u) << r.body;
  ASSERT_EQ(Candidates(r).size(), 1u);
  auto collected = store_->CollectUnlinkedDescriptors(core::NowMillis() + 1000, 0);
  ASSERT_TRUE(collected) << collected.error().log_detail;
  ASSERT_EQ(collected->size(), 1u);
  EXPECT_EQ(Post("/4/matching/match?descriptor_id=" + keep + "&descriptor_ids=" + gone).ErrorCode(), 11020);
  EXPECT_EQ(Post("/4/matching/match?descriptor_id=" + gone + "&descriptor_ids=" + keep).ErrorCode(), 11018);
  EXPECT_EQ(Post("/4/matching/verify?descriptor_id=" + gone + "&person_id=" + p).ErrorCode(), 11018);
  r = Post("/4/matching/verify?descriptor_id=" + keep + "&person_id=" + p);
  ASSERT_EQ(r.status, 201u) << r.body;
  ASSERT_EQ(Candidates(r).size(), 1u);
  EXPECT_GT(Sim(Candidates(r)[0]), 0.99);
}

// Writes through the API and matches from several threads: a match sees every write
// acknowledged before it started, and never a deleted person.
TEST_F(Matching, ReadYourWritesFromSeveralThreads) {
  std::vector<std::vector<float>> vs;
  for (int i = 0; i < 4 * 10; ++i) vs.push_back(RandomUnit());
  const auto list = List("persons");
  std::atomic<int> failures{0};
  auto worker = [&](int t) {
    for (int i = 0; i < 10; ++i) {
      const auto& v = vs[t * 10 + i];
      const auto d = Upload(v);
      const auto p = Person("t");
      Attach(p, d);
      auto r = Post("/4/matching/verify?descriptor_id=" + d + "&person_id=" + p);
      if (r.status != 201 || Candidates(r).size() != 1 || Sim(Candidates(r)[0]) < 0.99) ++failures;
      Link(list, "person_ids", {p});
      r = Post("/4/matching/identify?descriptor_id=" + d + "&list_id=" + list + "&limit=1");
      if (r.status != 201 || Candidates(r).size() != 1 || Candidates(r)[0].at("person_id").as_string() != p)
        ++failures;
      if (Send("DELETE", "/4/storage/persons/" + p, "", Auth()).status != 204) ++failures;
      r = Post("/4/matching/identify?descriptor_id=" + d + "&list_id=" + list + "&limit=5");
      if (r.status != 201) ++failures;
      else
        for (const auto& c : Candidates(r))
          if (c.at("person_id").as_string() == p) ++failures;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(worker, t);
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace fptest
