// Family P through the real router and a real SQLite file: every success path and every
// error code of each persons endpoint, filters and pagination, the linked_descriptors and
// linked_lists resources, and tenant isolation.
#include "storage_helpers.hpp"

namespace fptest {
namespace json = boost::json;

class Persons : public StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    if (IsSkipped()) return;  // backend not available here
    tok_ = Register("persons@example.com");
  }
  std::string tok_;
};

namespace {
const std::string kUuidPattern = "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}";
std::string Validation(const std::string& path, const std::string& message) {
  return "Failed to validate input json. Path: '" + path + "', message: '" + message + "'";
}
}  // namespace

TEST_F(Persons, CreateAndGetHaveTheDocumentedShape) {
  auto r = SendJson("POST", "/4/storage/persons", json::object{{"user_data", "Ann"}, {"external_id", "ext-1"}},
                    Token(tok_));
  ASSERT_EQ(r.status, 201u) << r.body;
  auto created = r.Json();
  EXPECT_EQ(created.size(), 1u);
  std::string id(created.at("person_id").as_string());
  EXPECT_TRUE(core::IsUuid4(id));
  EXPECT_EQ(*r.Header("Content-Type"), "application/json");

  auto g = Send("GET", "/4/storage/persons/" + id, "", Token(tok_));
  ASSERT_EQ(g.status, 200u) << g.body;
  auto p = g.Json();
  EXPECT_EQ(p.size(), 6u) << g.body;
  EXPECT_EQ(p.at("id").as_string(), id);
  EXPECT_EQ(p.at("user_data").as_string(), "Ann");
  EXPECT_EQ(p.at("external_id").as_string(), "ext-1");
  EXPECT_TRUE(IsIsoMillis(p.at("create_time"))) << g.body;
  EXPECT_TRUE(p.at("descriptors").as_array().empty());
  EXPECT_TRUE(p.at("lists").as_array().empty());
  // Basic works as well as a token.
  EXPECT_EQ(Send("GET", "/4/storage/persons/" + id, "", Basic("persons@example.com")).body, g.body);
}

TEST_F(Persons, CreateDefaultsAndOptionalBody) {
  auto empty = NewPerson(tok_);
  auto p = Person(tok_, empty);
  EXPECT_EQ(p.at("user_data").as_string(), "");
  EXPECT_TRUE(p.at("external_id").is_null());
  // No body at all: every property is optional, so it is the same as {}.
  auto nobody = Send("POST", "/4/storage/persons", "", Token(tok_));
  EXPECT_EQ(nobody.status, 201u) << nobody.body;
  auto nobody_ct = Send("POST", "/4/storage/persons", "", {{"X-Auth-Token", tok_}, {"Content-Type", "application/json"}});
  EXPECT_EQ(nobody_ct.status, 201u) << nobody_ct.body;
  auto only_ext = NewPerson(tok_, {{"external_id", ""}});
  EXPECT_EQ(Person(tok_, only_ext).at("external_id").as_string(), "");
}

TEST_F(Persons, CreateValidation) {
  auto post = [&](json::object o) { return SendJson("POST", "/4/storage/persons", o, Token(tok_)); };
  auto r = post({{"user_data", std::string(129, 'u')}});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.ErrorCode(), 12022);
  EXPECT_EQ(Detail(r), Validation("user_data", "user_data must be shorter than or equal to 128 characters"));
  EXPECT_EQ(post({{"user_data", std::string(128, 'u')}}).status, 201u);
  std::string e128;
  for (int i = 0; i < 128; ++i) e128 += "\xc3\xa9";  // 128 characters, 256 bytes
  EXPECT_EQ(post({{"user_data", e128}}).status, 201u);
  EXPECT_EQ(Detail(post({{"external_id", std::string(37, 'e')}})),
            Validation("external_id", "external_id must be shorter than or equal to 36 characters"));
  EXPECT_EQ(post({{"external_id", std::string(36, 'e')}}).status, 201u);
  EXPECT_EQ(Detail(post({{"user_data", 5}})), Validation("user_data", "user_data must be string"));
  EXPECT_EQ(Detail(post({{"external_id", nullptr}})), Validation("external_id", "external_id must be string"));
  EXPECT_EQ(Detail(post({{"name", "x"}})), Validation("name", "name is not an allowed property"));
  auto arr = SendJson("POST", "/4/storage/persons", json::array{}, Token(tok_));
  EXPECT_EQ(Detail(arr), Validation("data", "data must be object"));
  auto h = Token(tok_);
  h.emplace_back("Content-Type", "application/json");
  EXPECT_EQ(Send("POST", "/4/storage/persons", "{", h).ErrorCode(), 12002);
  EXPECT_EQ(Send("POST", "/4/storage/persons", R"({"user_data":"x"})", Token(tok_)).ErrorCode(), 12017);
  auto text = Token(tok_);
  text.emplace_back("Content-Type", "text/plain");
  EXPECT_EQ(Send("POST", "/4/storage/persons", R"({"user_data":"x"})", text).ErrorCode(), 12017);
  // Nothing was created by the refused requests.
  EXPECT_EQ(GetJson("/4/storage/persons", tok_).at("count").as_int64(), 3);
}

TEST_F(Persons, EveryEndpointNeedsCredentials) {
  auto id = NewPerson(tok_);
  auto list = NewList(tok_, "persons");
  auto d = NewDescriptor(tok_);
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"POST", "/4/storage/persons"},
      {"GET", "/4/storage/persons"},
      {"GET", "/4/storage/persons/" + id},
      {"PATCH", "/4/storage/persons/" + id},
      {"DELETE", "/4/storage/persons/" + id},
      {"GET", "/4/storage/persons/" + id + "/linked_descriptors"},
      {"PATCH", "/4/storage/persons/" + id + "/linked_descriptors?do=attach&descriptor_id=" + d},
      {"GET", "/4/storage/persons/" + id + "/linked_lists"},
      {"PATCH", "/4/storage/persons/" + id + "/linked_lists?do=attach&list_id=" + list},
  };
  for (const auto& [m, t] : calls) {
    auto r = Send(m, t, R"({"user_data":"x"})", {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 401u) << m << " " << t;
    EXPECT_EQ(r.ErrorCode(), 12010) << m << " " << t;
    EXPECT_EQ(Send(m, t, "", Token(core::NewUuid4())).ErrorCode(), 11002) << m << " " << t;
  }
  // Nothing changed.
  auto p = Person(tok_, id);
  EXPECT_EQ(p.at("user_data").as_string(), "");
  EXPECT_TRUE(p.at("descriptors").as_array().empty());
  EXPECT_TRUE(p.at("lists").as_array().empty());
}

TEST_F(Persons, ListIsPagedOldestFirstWithTotalCount) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(NewPerson(tok_, {{"user_data", "p" + std::to_string(i)}}));
  auto all = GetJson("/4/storage/persons", tok_);
  EXPECT_EQ(all.size(), 2u);
  EXPECT_EQ(all.at("count").as_int64(), 7);
  ASSERT_EQ(all.at("persons").as_array().size(), 7u);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& p = all.at("persons").as_array()[i].as_object();
    EXPECT_EQ(p.at("id").as_string(), ids[i]);
    EXPECT_EQ(p.size(), 6u);  // full person objects
  }
  auto page = GetJson("/4/storage/persons?page=2&page_size=3", tok_);
  EXPECT_EQ(page.at("count").as_int64(), 7);
  ASSERT_EQ(page.at("persons").as_array().size(), 3u);
  EXPECT_EQ(page.at("persons").as_array()[0].at("id").as_string(), ids[3]);
  EXPECT_EQ(page.at("persons").as_array()[2].at("id").as_string(), ids[5]);
  auto last = GetJson("/4/storage/persons?page=3&page_size=3", tok_);
  ASSERT_EQ(last.at("persons").as_array().size(), 1u);
  EXPECT_EQ(last.at("persons").as_array()[0].at("id").as_string(), ids[6]);
  auto past = GetJson("/4/storage/persons?page=1000000000&page_size=1000", tok_);
  EXPECT_TRUE(past.at("persons").as_array().empty());
  EXPECT_EQ(past.at("count").as_int64(), 7);
  // Default page_size is 10.
  for (int i = 0; i < 5; ++i) NewPerson(tok_);
  EXPECT_EQ(GetJson("/4/storage/persons", tok_).at("persons").as_array().size(), 10u);
  EXPECT_EQ(GetJson("/4/storage/persons?page_size=1000", tok_).at("persons").as_array().size(), 12u);

  for (const char* q : {"page=0", "page=-1", "page=x", "page=", "page=1.5"}) {
    auto r = Send("GET", std::string("/4/storage/persons?") + q, "", Token(tok_));
    EXPECT_EQ(r.status, 400u) << q;
    EXPECT_EQ(Detail(r), "Bad query parameters 'page'") << q;
  }
  for (const char* q : {"page_size=0", "page_size=1001", "page_size=ten"}) {
    auto r = Send("GET", std::string("/4/storage/persons?") + q, "", Token(tok_));
    EXPECT_EQ(r.ErrorCode(), 12012) << q;
    EXPECT_EQ(Detail(r), "Bad query parameters 'page_size'") << q;
  }
}

TEST_F(Persons, ListFilters) {
  auto a = NewPerson(tok_, {{"user_data", "John Smith"}, {"external_id", "1415926"}});
  auto b = NewPerson(tok_, {{"user_data", "Jane Smith"}, {"external_id", "14159261415926"}});
  auto c = NewPerson(tok_, {{"user_data", "smithy"}});
  NewPerson(tok_);
  auto ids = [&](const std::string& q) {
    auto o = GetJson("/4/storage/persons?" + q, tok_);
    std::vector<std::string> out;
    for (const auto& p : o.at("persons").as_array()) out.emplace_back(p.at("id").as_string());
    EXPECT_EQ(o.at("count").as_int64(), static_cast<int64_t>(out.size())) << q;  // all fit on one page
    return out;
  };
  // user_data: substring, case-sensitive.
  EXPECT_EQ(ids("user_data=Smith"), (std::vector<std::string>{a, b}));
  EXPECT_EQ(ids("user_data=smith"), (std::vector<std::string>{c}));
  EXPECT_EQ(ids("user_data=%20Smith"), (std::vector<std::string>{a, b}));  // percent-decoded
  EXPECT_EQ(ids("user_data=John%20Smith"), (std::vector<std::string>{a}));
  EXPECT_TRUE(ids("user_data=nobody").empty());
  EXPECT_EQ(ids("user_data=").size(), 4u);  // the empty string is in every user_data
  // A LIKE wildcard is a literal character.
  EXPECT_TRUE(ids("user_data=%25").empty());
  EXPECT_TRUE(ids("user_data=_").empty());
  // external_id: exact.
  EXPECT_EQ(ids("external_id=1415926"), (std::vector<std::string>{a}));
  EXPECT_EQ(ids("external_id=14159261415926"), (std::vector<std::string>{b}));
  EXPECT_TRUE(ids("external_id=141592").empty());
  // Both: AND.
  EXPECT_EQ(ids("user_data=Smith&external_id=14159261415926"), (std::vector<std::string>{b}));
  EXPECT_TRUE(ids("user_data=John&external_id=14159261415926").empty());
  // count is the filtered total, not the page length.
  auto page = GetJson("/4/storage/persons?user_data=Smith&page_size=1&page=2", tok_);
  EXPECT_EQ(page.at("count").as_int64(), 2);
  ASSERT_EQ(page.at("persons").as_array().size(), 1u);
  EXPECT_EQ(page.at("persons").as_array()[0].at("id").as_string(), b);
  // Lengths.
  EXPECT_EQ(Send("GET", "/4/storage/persons?user_data=" + std::string(128, 'x'), "", Token(tok_)).status, 200u);
  auto long_ud = Send("GET", "/4/storage/persons?user_data=" + std::string(129, 'x'), "", Token(tok_));
  EXPECT_EQ(long_ud.status, 400u);
  EXPECT_EQ(Detail(long_ud), "Bad query parameters 'user_data'");
  EXPECT_EQ(Send("GET", "/4/storage/persons?external_id=" + std::string(36, 'x'), "", Token(tok_)).status, 200u);
  auto long_ext = Send("GET", "/4/storage/persons?external_id=" + std::string(37, 'x'), "", Token(tok_));
  EXPECT_EQ(long_ext.ErrorCode(), 12012);
  EXPECT_EQ(Detail(long_ext), "Bad query parameters 'external_id'");
}

TEST_F(Persons, PatchChangesOnlyTheGivenFields) {
  auto id = NewPerson(tok_, {{"user_data", "before"}, {"external_id", "e1"}});
  auto patch = [&](json::object o, const std::string& pid) {
    return SendJson("PATCH", "/4/storage/persons/" + pid, o, Token(tok_));
  };
  auto r = patch({{"user_data", "after"}}, id);
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_TRUE(r.body.empty());
  auto p = Person(tok_, id);
  EXPECT_EQ(p.at("user_data").as_string(), "after");
  EXPECT_EQ(p.at("external_id").as_string(), "e1");
  EXPECT_EQ(patch({{"external_id", "e2"}}, id).status, 204u);
  p = Person(tok_, id);
  EXPECT_EQ(p.at("user_data").as_string(), "after");
  EXPECT_EQ(p.at("external_id").as_string(), "e2");
  EXPECT_EQ(patch({{"user_data", ""}, {"external_id", "e3"}}, id).status, 204u);
  p = Person(tok_, id);
  EXPECT_EQ(p.at("user_data").as_string(), "");
  EXPECT_EQ(p.at("external_id").as_string(), "e3");
  // A person created without external_id gets one.
  auto bare = NewPerson(tok_);
  EXPECT_EQ(patch({{"external_id", "new"}}, bare).status, 204u);
  EXPECT_EQ(Person(tok_, bare).at("external_id").as_string(), "new");
  EXPECT_EQ(GetJson("/4/storage/persons?external_id=new", tok_).at("count").as_int64(), 1);

  // At least one field.
  auto none = patch({}, id);
  EXPECT_EQ(none.status, 400u);
  EXPECT_EQ(none.ErrorCode(), 12022);
  EXPECT_EQ(Detail(none), Validation("data", "data must contain at least 1 properties"));
  EXPECT_EQ(Detail(patch({{"user_data", std::string(129, 'x')}}, id)),
            Validation("user_data", "user_data must be shorter than or equal to 128 characters"));
  EXPECT_EQ(Detail(patch({{"external_id", std::string(37, 'x')}}, id)),
            Validation("external_id", "external_id must be shorter than or equal to 36 characters"));
  EXPECT_EQ(Detail(patch({{"external_id", nullptr}}, id)), Validation("external_id", "external_id must be string"));
  EXPECT_EQ(Detail(patch({{"user_data", "x"}, {"lists", json::array{}}}, id)),
            Validation("lists", "lists is not an allowed property"));
  EXPECT_EQ(Send("PATCH", "/4/storage/persons/" + id, "", Token(tok_)).ErrorCode(), 12017);
  auto h = Token(tok_);
  h.emplace_back("Content-Type", "application/json");
  EXPECT_EQ(Send("PATCH", "/4/storage/persons/" + id, "", h).ErrorCode(), 12002);
  p = Person(tok_, id);  // unchanged by the refused requests
  EXPECT_EQ(p.at("user_data").as_string(), "");
  EXPECT_EQ(p.at("external_id").as_string(), "e3");

  auto unknown = patch({{"user_data", "x"}}, core::NewUuid4());
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(unknown.ErrorCode(), 22007);
  EXPECT_EQ(Detail(unknown), "Person not found");
}

TEST_F(Persons, GetAndDeleteUnknownAndMalformed) {
  for (const char* m : {"GET", "DELETE"}) {
    auto r = Send(m, "/4/storage/persons/" + core::NewUuid4(), "", Token(tok_));
    EXPECT_EQ(r.status, 404u) << m;
    EXPECT_EQ(r.ErrorCode(), 22007) << m;
    EXPECT_EQ(Detail(r), "Person not found");
    EXPECT_EQ(Send(m, "/4/storage/persons/not-a-uuid", "", Token(tok_)).ErrorCode(), 12013) << m;
    EXPECT_EQ(Send(m, "/4/storage/persons/5A7D54EC-29AD-4F3C-93B4-C9092EF12515", "", Token(tok_)).ErrorCode(), 12013);
  }
  for (const char* sub : {"/linked_descriptors", "/linked_lists"}) {
    auto r = Send("GET", "/4/storage/persons/" + core::NewUuid4() + sub, "", Token(tok_));
    EXPECT_EQ(r.status, 404u) << sub;
    EXPECT_EQ(r.ErrorCode(), 22007) << sub;
  }
  EXPECT_EQ(Send("PUT", "/4/storage/persons/" + core::NewUuid4(), "", Token(tok_)).ErrorCode(), 12021);
  EXPECT_EQ(Send("DELETE", "/4/storage/persons", "", Token(tok_)).ErrorCode(), 12021);
  EXPECT_EQ(Send("POST", "/4/storage/persons/" + core::NewUuid4() + "/linked_lists", "", Token(tok_)).ErrorCode(),
            12021);
}

TEST_F(Persons, DeleteUnlinksItsDescriptorsAndLists) {
  auto id = NewPerson(tok_, {{"user_data", "gone"}});
  auto keep = NewPerson(tok_);
  auto d1 = NewDescriptor(tok_), d2 = NewDescriptor(tok_);
  auto list = NewList(tok_, "persons");
  for (const auto& d : {d1, d2})
    ASSERT_EQ(Send("PATCH", "/4/storage/persons/" + id + "/linked_descriptors?descriptor_id=" + d + "&do=attach", "",
                   Token(tok_))
                  .status,
              204u);
  ASSERT_EQ(Link(tok_, "attach", list, "person_ids", {id, keep}).status, 204u);
  EXPECT_EQ(GetJson("/4/storage/lists/" + list, tok_).at("count").as_int64(), 2);
  auto before = StoredDescriptor(tok_, d1).last_update_ms;
  Tick();

  auto r = Send("DELETE", "/4/storage/persons/" + id, "", Token(tok_));
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(Send("GET", "/4/storage/persons/" + id, "", Token(tok_)).ErrorCode(), 22007);
  EXPECT_EQ(Send("DELETE", "/4/storage/persons/" + id, "", Token(tok_)).status, 404u);
  // The descriptors stay, unlinked; their clock restarted.
  for (const auto& d : {d1, d2}) {
    auto sd = StoredDescriptor(tok_, d);
    EXPECT_FALSE(sd.person_id.has_value());
  }
  EXPECT_GT(StoredDescriptor(tok_, d1).last_update_ms, before);
  // The list lost the person but kept the other one.
  auto l = GetJson("/4/storage/lists/" + list, tok_);
  EXPECT_EQ(l.at("count").as_int64(), 1);
  EXPECT_EQ(l.at("persons").as_array()[0].at("id").as_string(), keep);
  EXPECT_EQ(GetJson("/4/storage/lists", tok_).at("lists").at("person_lists").as_array()[0].at("count").as_int64(), 1);
  // The descriptors can now join another person.
  EXPECT_EQ(Send("PATCH", "/4/storage/persons/" + keep + "/linked_descriptors?descriptor_id=" + d1 + "&do=attach", "",
                 Token(tok_))
                .status,
            204u);
  EXPECT_EQ(GetJson("/4/storage/persons", tok_).at("count").as_int64(), 1);
}

TEST_F(Persons, LinkedDescriptors) {
  auto p = NewPerson(tok_);
  auto other = NewPerson(tok_);
  auto d1 = NewDescriptor(tok_), d2 = NewDescriptor(tok_);
  auto base = "/4/storage/persons/" + p + "/linked_descriptors";
  auto patch = [&](const std::string& person, const std::string& query) {
    return Send("PATCH", "/4/storage/persons/" + person + "/linked_descriptors" + query, "", Token(tok_));
  };
  auto got = GetJson(base, tok_);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_TRUE(got.at("descriptors").as_array().empty());

  auto created_update = StoredDescriptor(tok_, d1).last_update_ms;
  Tick();
  auto r = patch(p, "?descriptor_id=" + d1 + "&do=attach");
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(Ids(GetJson(base, tok_).at("descriptors")), std::vector<std::string>{d1});
  EXPECT_EQ(Ids(Person(tok_, p).at("descriptors")), std::vector<std::string>{d1});
  auto sd = StoredDescriptor(tok_, d1);
  EXPECT_EQ(sd.person_id.value_or(""), p);
  EXPECT_GT(sd.last_update_ms, created_update);

  // Attach twice: harmless, no duplicate.
  EXPECT_EQ(patch(p, "?do=attach&descriptor_id=" + d1).status, 204u);
  EXPECT_EQ(patch(p, "?descriptor_id=" + d2 + "&do=attach").status, 204u);
  EXPECT_EQ(Ids(GetJson(base, tok_).at("descriptors")), (std::vector<std::string>{d1, d2}));

  // Another person cannot take it.
  auto taken = patch(other, "?descriptor_id=" + d1 + "&do=attach");
  EXPECT_EQ(taken.status, 409u);
  EXPECT_EQ(taken.ErrorCode(), 11016);
  EXPECT_EQ(Detail(taken), "This descriptor is already attached to the person");
  // Detaching it from the person that does not have it is harmless and changes nothing.
  EXPECT_EQ(patch(other, "?descriptor_id=" + d1 + "&do=detach").status, 204u);
  EXPECT_EQ(StoredDescriptor(tok_, d1).person_id.value_or(""), p);
  EXPECT_TRUE(Person(tok_, other).at("descriptors").as_array().empty());

  // Detach.
  auto attached_update = StoredDescriptor(tok_, d1).last_update_ms;
  Tick();
  EXPECT_EQ(patch(p, "?descriptor_id=" + d1 + "&do=detach").status, 204u);
  EXPECT_EQ(Ids(GetJson(base, tok_).at("descriptors")), std::vector<std::string>{d2});
  sd = StoredDescriptor(tok_, d1);
  EXPECT_FALSE(sd.person_id.has_value());
  EXPECT_GT(sd.last_update_ms, attached_update);
  EXPECT_EQ(patch(p, "?descriptor_id=" + d1 + "&do=detach").status, 204u);  // again: harmless
  // Now the other person can take it.
  EXPECT_EQ(patch(other, "?descriptor_id=" + d1 + "&do=attach").status, 204u);
  EXPECT_EQ(Ids(Person(tok_, other).at("descriptors")), std::vector<std::string>{d1});

  // Unknown descriptor: 400 11018 naming it, for both actions.
  auto ghost = core::NewUuid4();
  for (const char* action : {"attach", "detach"}) {
    auto u = patch(p, "?descriptor_id=" + ghost + "&do=" + action);
    EXPECT_EQ(u.status, 400u) << action;
    EXPECT_EQ(u.ErrorCode(), 11018) << action;
    EXPECT_EQ(Detail(u), "Descriptor with id '" + ghost + "' not found.");
  }
  // Unknown person: 404 22007 (the path's object), for both actions.
  for (const char* action : {"attach", "detach"}) {
    auto u = patch(core::NewUuid4(), "?descriptor_id=" + d2 + "&do=" + action);
    EXPECT_EQ(u.status, 404u) << action;
    EXPECT_EQ(u.ErrorCode(), 22007) << action;
  }
  // Query parameters.
  auto missing_d = patch(p, "?do=attach");
  EXPECT_EQ(missing_d.status, 400u);
  EXPECT_EQ(Detail(missing_d), "Required parameters 'descriptor_id' not found");
  EXPECT_EQ(patch(p, "").ErrorCode(), 12014);
  auto bad_d = patch(p, "?descriptor_id=123&do=attach");
  EXPECT_EQ(bad_d.ErrorCode(), 12012);
  EXPECT_EQ(Detail(bad_d), "Bad query parameters 'descriptor_id'");
  std::string upper = d2;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(patch(p, "?descriptor_id=" + upper + "&do=attach").ErrorCode(), 12012);
  auto missing_do = patch(p, "?descriptor_id=" + d2);
  EXPECT_EQ(missing_do.ErrorCode(), 12014);
  EXPECT_EQ(Detail(missing_do), "Required parameters 'do' not found");
  auto bad_do = patch(p, "?descriptor_id=" + d2 + "&do=remove");
  EXPECT_EQ(bad_do.ErrorCode(), 12012);
  EXPECT_EQ(Detail(bad_do), "Bad query parameters 'do'");
  EXPECT_EQ(patch(p, "?descriptor_id=" + d2 + "&do=ATTACH").ErrorCode(), 12012);
  // Nothing changed by the refused requests.
  EXPECT_EQ(Ids(GetJson(base, tok_).at("descriptors")), std::vector<std::string>{d2});
}

TEST_F(Persons, LinkedLists) {
  auto p = NewPerson(tok_);
  auto l1 = NewList(tok_, "persons", "first");
  auto l2 = NewList(tok_, "persons", "second");
  auto dl = NewList(tok_, "descriptors");
  auto base = "/4/storage/persons/" + p + "/linked_lists";
  auto patch = [&](const std::string& person, const std::string& query) {
    return Send("PATCH", "/4/storage/persons/" + person + "/linked_lists" + query, "", Token(tok_));
  };
  auto got = GetJson(base, tok_);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_TRUE(got.at("lists").as_array().empty());

  auto r = patch(p, "?list_id=" + l1 + "&do=attach");
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(patch(p, "?do=attach&list_id=" + l2).status, 204u);
  EXPECT_EQ(patch(p, "?list_id=" + l1 + "&do=attach").status, 204u);  // twice: harmless
  EXPECT_EQ(Ids(GetJson(base, tok_).at("lists")), (std::vector<std::string>{l1, l2}));
  EXPECT_EQ(Ids(Person(tok_, p).at("lists")), (std::vector<std::string>{l1, l2}));
  auto list1 = GetJson("/4/storage/lists/" + l1, tok_);
  EXPECT_EQ(list1.at("count").as_int64(), 1);
  EXPECT_EQ(list1.at("persons").as_array()[0].at("id").as_string(), p);
  EXPECT_EQ(Ids(list1.at("persons").as_array()[0].at("lists")), (std::vector<std::string>{l1, l2}));

  EXPECT_EQ(patch(p, "?list_id=" + l1 + "&do=detach").status, 204u);
  EXPECT_EQ(Ids(GetJson(base, tok_).at("lists")), std::vector<std::string>{l2});
  EXPECT_EQ(GetJson("/4/storage/lists/" + l1, tok_).at("count").as_int64(), 0);
  EXPECT_EQ(patch(p, "?list_id=" + l1 + "&do=detach").status, 204u);  // non-member: harmless

  // Unknown list: 400 22003 (referenced); a descriptors list: 400 22010.
  for (const char* action : {"attach", "detach"}) {
    auto u = patch(p, "?list_id=" + core::NewUuid4() + "&do=" + action);
    EXPECT_EQ(u.status, 400u) << action;
    EXPECT_EQ(u.ErrorCode(), 22003) << action;
    EXPECT_EQ(Detail(u), "List not found");
    auto w = patch(p, "?list_id=" + dl + "&do=" + action);
    EXPECT_EQ(w.status, 400u) << action;
    EXPECT_EQ(w.ErrorCode(), 22010) << action;
    EXPECT_EQ(Detail(w), "Wrong list type: expected a persons list");
  }
  // Unknown person: 404 22007, even with an unknown list.
  for (const auto& list : {l2, core::NewUuid4()}) {
    auto u = patch(core::NewUuid4(), "?list_id=" + list + "&do=attach");
    EXPECT_EQ(u.status, 404u);
    EXPECT_EQ(u.ErrorCode(), 22007);
  }
  EXPECT_EQ(Detail(patch(p, "?do=attach")), "Required parameters 'list_id' not found");
  EXPECT_EQ(Detail(patch(p, "?list_id=x&do=attach")), "Bad query parameters 'list_id'");
  EXPECT_EQ(Detail(patch(p, "?list_id=" + l1)), "Required parameters 'do' not found");
  EXPECT_EQ(Detail(patch(p, "?list_id=" + l1 + "&do=")), "Bad query parameters 'do'");
  EXPECT_EQ(Ids(GetJson(base, tok_).at("lists")), std::vector<std::string>{l2});
  EXPECT_TRUE(GetJson("/4/storage/lists/" + dl, tok_).at("descriptors").as_array().empty());

  // Deleting the list removes it from the person.
  EXPECT_EQ(Send("DELETE", "/4/storage/lists/" + l2, "", Token(tok_)).status, 204u);
  EXPECT_TRUE(GetJson(base, tok_).at("lists").as_array().empty());
  EXPECT_TRUE(Person(tok_, p).at("lists").as_array().empty());
}

// Another account's ids answer exactly what unknown ids answer, on every P endpoint, and
// touch nothing.
TEST_F(Persons, TenantIsolation) {
  // Account A's objects, linked together.
  auto a_person = NewPerson(tok_, {{"user_data", "secret"}, {"external_id", "a-ext"}});
  auto a_desc = NewDescriptor(tok_);
  auto a_free_desc = NewDescriptor(tok_);
  auto a_list = NewList(tok_, "persons");
  auto a_dlist = NewList(tok_, "descriptors");
  ASSERT_EQ(Send("PATCH", "/4/storage/persons/" + a_person + "/linked_descriptors?do=attach&descriptor_id=" + a_desc,
                 "", Token(tok_))
                .status,
            204u);
  ASSERT_EQ(Link(tok_, "attach", a_list, "person_ids", {a_person}).status, 204u);
  auto a_before = Person(tok_, a_person);

  // Account B with its own person, descriptor and lists.
  auto b = Register("intruder@example.com");
  auto b_person = NewPerson(b);
  auto b_desc = NewDescriptor(b);
  auto b_list = NewList(b, "persons");
  auto unknown = core::NewUuid4();

  auto same = [&](const std::string& what, const Reply& foreign, const Reply& ghost,
                  const std::string& foreign_id = "", const std::string& ghost_id = "") {
    std::string fb = foreign.body;
    if (!foreign_id.empty())
      for (auto p = fb.find(foreign_id); p != std::string::npos; p = fb.find(foreign_id)) fb.replace(p, foreign_id.size(), ghost_id);
    EXPECT_EQ(foreign.status, ghost.status) << what;
    EXPECT_EQ(fb, ghost.body) << what;
    EXPECT_NE(foreign.status, 200u) << what;
    EXPECT_NE(foreign.status, 204u) << what;
  };
  for (const auto& auth : {Token(b), Basic("intruder@example.com")}) {
    auto send = [&](const std::string& m, const std::string& t, const std::string& body = "") {
      auto h = auth;
      if (!body.empty()) h.emplace_back("Content-Type", "application/json");
      return Send(m, t, body, h);
    };
    auto pp = [](const std::string& id) { return "/4/storage/persons/" + id; };
    same("GET person", send("GET", pp(a_person)), send("GET", pp(unknown)));
    same("PATCH person", send("PATCH", pp(a_person), R"({"user_data":"pwned"})"),
         send("PATCH", pp(unknown), R"({"user_data":"pwned"})"));
    same("DELETE person", send("DELETE", pp(a_person)), send("DELETE", pp(unknown)));
    same("GET linked_descriptors", send("GET", pp(a_person) + "/linked_descriptors"),
         send("GET", pp(unknown) + "/linked_descriptors"));
    same("GET linked_lists", send("GET", pp(a_person) + "/linked_lists"), send("GET", pp(unknown) + "/linked_lists"));
    for (const char* action : {"attach", "detach"}) {
      std::string act = std::string("&do=") + action;
      // A's person with B's descriptor.
      same(std::string("linked_descriptors foreign person ") + action,
           send("PATCH", pp(a_person) + "/linked_descriptors?descriptor_id=" + b_desc + act),
           send("PATCH", pp(unknown) + "/linked_descriptors?descriptor_id=" + b_desc + act));
      // B's person with A's descriptors (one attached to A's person, one free).
      for (const auto& ad : {a_desc, a_free_desc})
        same(std::string("linked_descriptors foreign descriptor ") + action,
             send("PATCH", pp(b_person) + "/linked_descriptors?descriptor_id=" + ad + act),
             send("PATCH", pp(b_person) + "/linked_descriptors?descriptor_id=" + unknown + act), ad, unknown);
      // A's person with B's list; B's person with A's lists.
      same(std::string("linked_lists foreign person ") + action,
           send("PATCH", pp(a_person) + "/linked_lists?list_id=" + b_list + act),
           send("PATCH", pp(unknown) + "/linked_lists?list_id=" + b_list + act));
      for (const auto& al : {a_list, a_dlist})
        same(std::string("linked_lists foreign list ") + action,
             send("PATCH", pp(b_person) + "/linked_lists?list_id=" + al + act),
             send("PATCH", pp(b_person) + "/linked_lists?list_id=" + unknown + act));
    }
    // The collection and its filters see only B's persons.
    auto mine = send("GET", "/4/storage/persons?page_size=1000").Json();
    EXPECT_EQ(mine.at("count").as_int64(), 1);
    EXPECT_EQ(mine.at("persons").as_array()[0].at("id").as_string(), b_person);
    EXPECT_EQ(send("GET", "/4/storage/persons?external_id=a-ext").Json().at("count").as_int64(), 0);
    EXPECT_EQ(send("GET", "/4/storage/persons?user_data=secret").Json().at("count").as_int64(), 0);
  }
  // A's objects are untouched, B's person got nothing.
  EXPECT_EQ(json::serialize(Person(tok_, a_person)), json::serialize(a_before));
  EXPECT_EQ(StoredDescriptor(tok_, a_desc).person_id.value_or(""), a_person);
  EXPECT_FALSE(StoredDescriptor(tok_, a_free_desc).person_id.has_value());
  auto bp = Person(b, b_person);
  EXPECT_TRUE(bp.at("descriptors").as_array().empty());
  EXPECT_TRUE(bp.at("lists").as_array().empty());
  EXPECT_EQ(GetJson("/4/storage/lists/" + a_list, tok_).at("count").as_int64(), 1);
  EXPECT_EQ(GetJson("/4/storage/lists/" + a_dlist, tok_).at("count").as_int64(), 0);
  EXPECT_EQ(GetJson("/4/storage/lists/" + b_list, b).at("count").as_int64(), 0);
}

}  // namespace fptest
