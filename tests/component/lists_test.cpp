// Family L through the real router and a real SQLite file: lists (create, page, get, patch,
// delete one or many) and the linker, with every error code, member counts, the members'
// `lists` arrays after every change, linker atomicity and tenant isolation.
#include "storage_helpers.hpp"

namespace fptest {
namespace json = boost::json;

class Lists : public StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    if (IsSkipped()) return;  // backend not available here
    tok_ = Register("lists@example.com");
  }
  std::string tok_;
};

namespace {
std::string Validation(const std::string& path, const std::string& message) {
  return "Failed to validate input json. Path: '" + path + "', message: '" + message + "'";
}
const std::string kUuidPattern = "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}";
}  // namespace

TEST_F(Lists, CreateAndGetBothTypes) {
  auto r = SendJson("POST", "/4/storage/lists?type=persons", json::object{{"list_data", "staff"}}, Token(tok_));
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(r.Json().size(), 1u);
  std::string pl(r.Json().at("list_id").as_string());
  EXPECT_TRUE(core::IsUuid4(pl));
  auto got = GetJson("/4/storage/lists/" + pl, tok_);
  EXPECT_EQ(got.size(), 3u);
  EXPECT_TRUE(got.at("persons").as_array().empty());
  EXPECT_EQ(got.at("list_data").as_string(), "staff");
  EXPECT_EQ(got.at("count").as_int64(), 0);

  auto d = SendJson("POST", "/4/storage/lists?type=descriptors", json::object{{"list_data", "faces"}}, Token(tok_));
  ASSERT_EQ(d.status, 201u) << d.body;
  std::string dl(d.Json().at("list_id").as_string());
  auto dgot = GetJson("/4/storage/lists/" + dl, tok_);
  EXPECT_EQ(dgot.size(), 3u);
  EXPECT_TRUE(dgot.at("descriptors").as_array().empty());
  EXPECT_EQ(dgot.at("list_data").as_string(), "faces");
  EXPECT_EQ(dgot.at("count").as_int64(), 0);
}

TEST_F(Lists, CreateDefaultsAndValidation) {
  // type defaults to persons (reference: Default "persons"); list_data to "".
  auto r = SendJson("POST", "/4/storage/lists", json::object{}, Token(tok_));
  ASSERT_EQ(r.status, 201u) << r.body;
  auto l = GetJson("/4/storage/lists/" + std::string(r.Json().at("list_id").as_string()), tok_);
  EXPECT_TRUE(l.contains("persons"));
  EXPECT_EQ(l.at("list_data").as_string(), "");
  // No body at all.
  auto nobody = Send("POST", "/4/storage/lists?type=descriptors", "", Token(tok_));
  ASSERT_EQ(nobody.status, 201u) << nobody.body;
  EXPECT_TRUE(GetJson("/4/storage/lists/" + std::string(nobody.Json().at("list_id").as_string()), tok_)
                  .contains("descriptors"));

  for (const char* t : {"person", "Persons", "", "lists"}) {
    auto bad = SendJson("POST", std::string("/4/storage/lists?type=") + t, json::object{}, Token(tok_));
    EXPECT_EQ(bad.status, 400u) << t;
    EXPECT_EQ(Detail(bad), "Bad query parameters 'type'") << t;
  }
  auto post = [&](json::object o) { return SendJson("POST", "/4/storage/lists?type=persons", o, Token(tok_)); };
  EXPECT_EQ(Detail(post({{"list_data", std::string(129, 'x')}})),
            Validation("list_data", "list_data must be shorter than or equal to 128 characters"));
  EXPECT_EQ(post({{"list_data", std::string(128, 'x')}}).status, 201u);
  EXPECT_EQ(Detail(post({{"list_data", 1}})), Validation("list_data", "list_data must be string"));
  EXPECT_EQ(Detail(post({{"type", "persons"}})), Validation("type", "type is not an allowed property"));
  auto h = Token(tok_);
  h.emplace_back("Content-Type", "application/json");
  EXPECT_EQ(Send("POST", "/4/storage/lists", "[1", h).ErrorCode(), 12002);
  EXPECT_EQ(Send("POST", "/4/storage/lists", R"({"list_data":"x"})", Token(tok_)).ErrorCode(), 12017);
  auto all = GetJson("/4/storage/lists", tok_);
  EXPECT_EQ(all.at("persons_list_count").as_int64(), 2);
  EXPECT_EQ(all.at("descriptors_list_count").as_int64(), 1);
}

TEST_F(Lists, CollectionIsPagedPerTypeWithCounts) {
  std::vector<std::string> pls, dls;
  for (int i = 0; i < 5; ++i) pls.push_back(NewList(tok_, "persons", "p" + std::to_string(i)));
  for (int i = 0; i < 3; ++i) dls.push_back(NewList(tok_, "descriptors", "d" + std::to_string(i)));
  auto p1 = NewPerson(tok_), p2 = NewPerson(tok_);
  auto d1 = NewDescriptor(tok_);
  ASSERT_EQ(Link(tok_, "attach", pls[0], "person_ids", {p1, p2}).status, 204u);
  ASSERT_EQ(Link(tok_, "attach", dls[1], "descriptor_ids", {d1}).status, 204u);

  auto all = Send("GET", "/4/storage/lists", "", Token(tok_));
  ASSERT_EQ(all.status, 200u) << all.body;
  auto o = all.Json();
  EXPECT_EQ(o.size(), 3u);
  EXPECT_EQ(o.at("persons_list_count").as_int64(), 5);
  EXPECT_EQ(o.at("descriptors_list_count").as_int64(), 3);
  const auto& lists = o.at("lists").as_object();
  EXPECT_EQ(lists.size(), 2u);
  const auto& pa = lists.at("person_lists").as_array();
  const auto& da = lists.at("descriptor_lists").as_array();
  ASSERT_EQ(pa.size(), 5u);
  ASSERT_EQ(da.size(), 3u);
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].as_object().size(), 3u);
    EXPECT_EQ(pa[i].at("id").as_string(), pls[i]);  // oldest first
    EXPECT_EQ(pa[i].at("list_data").as_string(), "p" + std::to_string(i));
    EXPECT_EQ(pa[i].at("count").as_int64(), i == 0 ? 2 : 0);
  }
  for (std::size_t i = 0; i < da.size(); ++i) {
    EXPECT_EQ(da[i].at("id").as_string(), dls[i]);
    EXPECT_EQ(da[i].at("count").as_int64(), i == 1 ? 1 : 0);
  }
  // page/page_size apply to each type; the counts stay the totals.
  auto page = GetJson("/4/storage/lists?page=2&page_size=2", tok_);
  EXPECT_EQ(page.at("persons_list_count").as_int64(), 5);
  EXPECT_EQ(page.at("descriptors_list_count").as_int64(), 3);
  const auto& pp = page.at("lists").at("person_lists").as_array();
  const auto& dp = page.at("lists").at("descriptor_lists").as_array();
  ASSERT_EQ(pp.size(), 2u);
  EXPECT_EQ(pp[0].at("id").as_string(), pls[2]);
  EXPECT_EQ(pp[1].at("id").as_string(), pls[3]);
  ASSERT_EQ(dp.size(), 1u);
  EXPECT_EQ(dp[0].at("id").as_string(), dls[2]);
  auto p3 = GetJson("/4/storage/lists?page=3&page_size=2", tok_);
  EXPECT_EQ(p3.at("lists").at("person_lists").as_array().size(), 1u);
  EXPECT_TRUE(p3.at("lists").at("descriptor_lists").as_array().empty());
  // Default page_size 10.
  for (int i = 0; i < 7; ++i) NewList(tok_, "persons");
  EXPECT_EQ(GetJson("/4/storage/lists", tok_).at("lists").at("person_lists").as_array().size(), 10u);
  EXPECT_EQ(GetJson("/4/storage/lists?page_size=1000", tok_).at("lists").at("person_lists").as_array().size(), 12u);
  EXPECT_EQ(Detail(Send("GET", "/4/storage/lists?page_size=1001", "", Token(tok_))), "Bad query parameters 'page_size'");
  EXPECT_EQ(Detail(Send("GET", "/4/storage/lists?page=0", "", Token(tok_))), "Bad query parameters 'page'");
  // An empty account.
  auto other = Register("empty@example.com");
  auto none = GetJson("/4/storage/lists", other);
  EXPECT_TRUE(none.at("lists").at("person_lists").as_array().empty());
  EXPECT_TRUE(none.at("lists").at("descriptor_lists").as_array().empty());
  EXPECT_EQ(none.at("persons_list_count").as_int64(), 0);
  EXPECT_EQ(none.at("descriptors_list_count").as_int64(), 0);
}

TEST_F(Lists, GetListPagesMembers) {
  auto pl = NewList(tok_, "persons", "people");
  std::vector<std::string> persons;
  for (int i = 0; i < 5; ++i) persons.push_back(NewPerson(tok_, {{"user_data", "u" + std::to_string(i)}}));
  auto outsider = NewPerson(tok_);
  ASSERT_EQ(Link(tok_, "attach", pl, "person_ids", persons).status, 204u);
  auto all = GetJson("/4/storage/lists/" + pl, tok_);
  EXPECT_EQ(all.at("count").as_int64(), 5);
  EXPECT_EQ(all.at("list_data").as_string(), "people");
  const auto& arr = all.at("persons").as_array();
  ASSERT_EQ(arr.size(), 5u);
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const auto& p = arr[i].as_object();
    EXPECT_EQ(p.size(), 6u);  // full person objects
    EXPECT_EQ(p.at("id").as_string(), persons[i]);
    EXPECT_EQ(p.at("user_data").as_string(), "u" + std::to_string(i));
    EXPECT_EQ(Ids(p.at("lists")), std::vector<std::string>{pl});
    EXPECT_TRUE(IsIsoMillis(p.at("create_time")));
  }
  auto page = GetJson("/4/storage/lists/" + pl + "?page=2&page_size=2", tok_);
  EXPECT_EQ(page.at("count").as_int64(), 5);
  ASSERT_EQ(page.at("persons").as_array().size(), 2u);
  EXPECT_EQ(page.at("persons").as_array()[0].at("id").as_string(), persons[2]);
  EXPECT_EQ(page.at("persons").as_array()[1].at("id").as_string(), persons[3]);
  EXPECT_TRUE(GetJson("/4/storage/lists/" + pl + "?page=4&page_size=2", tok_).at("persons").as_array().empty());
  (void)outsider;

  auto dl = NewList(tok_, "descriptors", "faces");
  std::vector<std::string> ds;
  for (int i = 0; i < 3; ++i) ds.push_back(NewDescriptor(tok_));
  auto holder = NewPerson(tok_);
  ASSERT_EQ(Send("PATCH", "/4/storage/persons/" + holder + "/linked_descriptors?do=attach&descriptor_id=" + ds[0], "",
                 Token(tok_))
                .status,
            204u);
  ASSERT_EQ(Link(tok_, "attach", dl, "descriptor_ids", ds).status, 204u);
  auto dall = GetJson("/4/storage/lists/" + dl + "?page_size=2", tok_);
  EXPECT_EQ(dall.at("count").as_int64(), 3);
  EXPECT_EQ(dall.at("list_data").as_string(), "faces");
  const auto& darr = dall.at("descriptors").as_array();
  ASSERT_EQ(darr.size(), 2u);
  const auto& d0 = darr[0].as_object();
  EXPECT_EQ(d0.size(), 4u);  // {"id","last_update","person_id","lists"}
  EXPECT_EQ(d0.at("id").as_string(), ds[0]);
  EXPECT_TRUE(IsIsoMillis(d0.at("last_update")));
  EXPECT_EQ(d0.at("person_id").as_string(), holder);
  EXPECT_EQ(Ids(d0.at("lists")), std::vector<std::string>{dl});
  EXPECT_TRUE(darr[1].at("person_id").is_null());

  auto unknown = Send("GET", "/4/storage/lists/" + core::NewUuid4(), "", Token(tok_));
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(unknown.ErrorCode(), 22003);
  EXPECT_EQ(Detail(unknown), "List not found");
  EXPECT_EQ(Send("GET", "/4/storage/lists/" + pl + "?page_size=0", "", Token(tok_)).ErrorCode(), 12012);
  EXPECT_EQ(Send("GET", "/4/storage/lists/" + pl + "?page=a", "", Token(tok_)).ErrorCode(), 12012);
  EXPECT_EQ(Send("GET", "/4/storage/lists/xyz", "", Token(tok_)).ErrorCode(), 12013);
}

TEST_F(Lists, PatchListData) {
  auto l = NewList(tok_, "persons", "old");
  auto patch = [&](const std::string& id, json::object o) {
    return SendJson("PATCH", "/4/storage/lists/" + id, o, Token(tok_));
  };
  auto r = patch(l, {{"list_data", "new"}});
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(GetJson("/4/storage/lists/" + l, tok_).at("list_data").as_string(), "new");
  EXPECT_EQ(GetJson("/4/storage/lists", tok_).at("lists").at("person_lists").as_array()[0].at("list_data").as_string(),
            "new");
  EXPECT_EQ(patch(l, {{"list_data", ""}}).status, 204u);
  EXPECT_EQ(GetJson("/4/storage/lists/" + l, tok_).at("list_data").as_string(), "");

  EXPECT_EQ(Detail(patch(l, {})), Validation("list_data", "list_data is a required property"));
  EXPECT_EQ(Detail(patch(l, {{"list_data", 3}})), Validation("list_data", "list_data must be string"));
  EXPECT_EQ(Detail(patch(l, {{"list_data", std::string(129, 'x')}})),
            Validation("list_data", "list_data must be shorter than or equal to 128 characters"));
  EXPECT_EQ(Detail(patch(l, {{"list_data", "x"}, {"type", "descriptors"}})),
            Validation("type", "type is not an allowed property"));
  EXPECT_EQ(Send("PATCH", "/4/storage/lists/" + l, R"({"list_data":"x"})", Token(tok_)).ErrorCode(), 12017);
  EXPECT_EQ(GetJson("/4/storage/lists/" + l, tok_).at("list_data").as_string(), "");
  auto unknown = patch(core::NewUuid4(), {{"list_data", "x"}});
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(unknown.ErrorCode(), 22003);
}

TEST_F(Lists, DeleteOneUnlinksMembers) {
  auto pl = NewList(tok_, "persons");
  auto keep_pl = NewList(tok_, "persons");
  auto dl = NewList(tok_, "descriptors");
  auto p = NewPerson(tok_);
  auto d = NewDescriptor(tok_);
  ASSERT_EQ(Link(tok_, "attach", pl, "person_ids", {p}).status, 204u);
  ASSERT_EQ(Link(tok_, "attach", keep_pl, "person_ids", {p}).status, 204u);
  ASSERT_EQ(Link(tok_, "attach", dl, "descriptor_ids", {d}).status, 204u);
  EXPECT_EQ(Ids(Person(tok_, p).at("lists")), (std::vector<std::string>{pl, keep_pl}));
  EXPECT_EQ(StoredDescriptor(tok_, d).lists, std::vector<std::string>{dl});
  auto before = StoredDescriptor(tok_, d).last_update_ms;
  Tick();

  auto r = Send("DELETE", "/4/storage/lists/" + pl, "", Token(tok_));
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(Send("GET", "/4/storage/lists/" + pl, "", Token(tok_)).ErrorCode(), 22003);
  auto again = Send("DELETE", "/4/storage/lists/" + pl, "", Token(tok_));
  EXPECT_EQ(again.status, 404u);
  EXPECT_EQ(again.ErrorCode(), 22003);
  EXPECT_EQ(Ids(Person(tok_, p).at("lists")), std::vector<std::string>{keep_pl});  // the person stays

  EXPECT_EQ(Send("DELETE", "/4/storage/lists/" + dl, "", Token(tok_)).status, 204u);
  auto sd = StoredDescriptor(tok_, d);  // the descriptor stays, unlinked, its clock restarted
  EXPECT_TRUE(sd.lists.empty());
  EXPECT_GT(sd.last_update_ms, before);
  auto all = GetJson("/4/storage/lists", tok_);
  EXPECT_EQ(all.at("persons_list_count").as_int64(), 1);
  EXPECT_EQ(all.at("descriptors_list_count").as_int64(), 0);
}

TEST_F(Lists, DeleteMany) {
  auto a = NewList(tok_, "persons"), b = NewList(tok_, "descriptors"), c = NewList(tok_, "persons");
  auto p = NewPerson(tok_);
  ASSERT_EQ(Link(tok_, "attach", a, "person_ids", {p}).status, 204u);
  ASSERT_EQ(Link(tok_, "attach", c, "person_ids", {p}).status, 204u);
  auto del = [&](json::value lists) {
    return SendJson("DELETE", "/4/storage/lists", json::object{{"lists", lists}}, Token(tok_));
  };
  // Unknown ids and repeats are ignored.
  auto r = del(json::array{a, b, core::NewUuid4(), a});
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(Send("GET", "/4/storage/lists/" + a, "", Token(tok_)).ErrorCode(), 22003);
  EXPECT_EQ(Send("GET", "/4/storage/lists/" + b, "", Token(tok_)).ErrorCode(), 22003);
  EXPECT_EQ(Ids(Person(tok_, p).at("lists")), std::vector<std::string>{c});
  EXPECT_EQ(del(json::array{}).status, 204u);

  // Refused bodies delete nothing.
  EXPECT_EQ(Detail(del(json::array{c, "nope"})),
            Validation("lists[1]", "lists[1] must match pattern " + kUuidPattern));
  EXPECT_EQ(Detail(del("x")), Validation("lists", "lists must be array"));
  json::array many;
  for (int i = 0; i < 1001; ++i) many.emplace_back(core::NewUuid4());
  many[0] = c;
  EXPECT_EQ(Detail(del(many)), Validation("lists", "lists must contain less than or equal to 1000 items"));
  EXPECT_EQ(Detail(SendJson("DELETE", "/4/storage/lists", json::object{}, Token(tok_))),
            Validation("lists", "lists is a required property"));
  EXPECT_EQ(Send("DELETE", "/4/storage/lists", "", Token(tok_)).ErrorCode(), 12017);
  EXPECT_EQ(GetJson("/4/storage/lists/" + c, tok_).at("count").as_int64(), 1);
  many.erase(many.end() - 1);  // 1000 ids: accepted
  EXPECT_EQ(del(many).status, 204u);
  EXPECT_EQ(Send("GET", "/4/storage/lists/" + c, "", Token(tok_)).ErrorCode(), 22003);
  EXPECT_TRUE(Person(tok_, p).at("lists").as_array().empty());
}

TEST_F(Lists, LinkerPersons) {
  auto l = NewList(tok_, "persons");
  auto p1 = NewPerson(tok_), p2 = NewPerson(tok_), p3 = NewPerson(tok_);
  auto r = Link(tok_, "attach", l, "person_ids", {p1, p2});
  EXPECT_EQ(r.status, 204u) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(GetJson("/4/storage/lists/" + l, tok_).at("count").as_int64(), 2);
  EXPECT_EQ(Ids(Person(tok_, p1).at("lists")), std::vector<std::string>{l});
  EXPECT_EQ(Ids(GetJson("/4/storage/persons/" + p2 + "/linked_lists", tok_).at("lists")), std::vector<std::string>{l});
  // Attaching members again (and repeats in one request) is harmless.
  EXPECT_EQ(Link(tok_, "attach", l, "person_ids", {p2, p3, p3}).status, 204u);
  EXPECT_EQ(GetJson("/4/storage/lists/" + l, tok_).at("count").as_int64(), 3);
  EXPECT_EQ(Ids(Person(tok_, p3).at("lists")), std::vector<std::string>{l});
  // Detach; a non-member is harmless.
  EXPECT_EQ(Link(tok_, "detach", l, "person_ids", {p1, p2}).status, 204u);
  EXPECT_EQ(Link(tok_, "detach", l, "person_ids", {p1}).status, 204u);
  auto got = GetJson("/4/storage/lists/" + l, tok_);
  EXPECT_EQ(got.at("count").as_int64(), 1);
  EXPECT_EQ(got.at("persons").as_array()[0].at("id").as_string(), p3);
  EXPECT_TRUE(Person(tok_, p1).at("lists").as_array().empty());
  // An empty array changes nothing but the list must still exist.
  EXPECT_EQ(Link(tok_, "attach", l, "person_ids", {}).status, 204u);
  EXPECT_EQ(Link(tok_, "attach", core::NewUuid4(), "person_ids", {}).ErrorCode(), 22003);
}

TEST_F(Lists, LinkerDescriptorsAndLastUpdate) {
  auto l = NewList(tok_, "descriptors");
  auto d1 = NewDescriptor(tok_), d2 = NewDescriptor(tok_);
  auto created = StoredDescriptor(tok_, d1).last_update_ms;
  Tick();
  EXPECT_EQ(Link(tok_, "attach", l, "descriptor_ids", {d1, d2}).status, 204u);
  auto s1 = StoredDescriptor(tok_, d1);
  EXPECT_EQ(s1.lists, std::vector<std::string>{l});
  EXPECT_GT(s1.last_update_ms, created);
  auto got = GetJson("/4/storage/lists/" + l, tok_);
  EXPECT_EQ(got.at("count").as_int64(), 2);
  EXPECT_EQ(IdSet(json::array{got.at("descriptors").as_array()[0].at("id"), got.at("descriptors").as_array()[1].at("id")}),
            (std::set<std::string>{d1, d2}));
  // A second list shows in the descriptor's lists, in link order.
  auto l2 = NewList(tok_, "descriptors");
  EXPECT_EQ(Link(tok_, "attach", l2, "descriptor_ids", {d1}).status, 204u);
  EXPECT_EQ(StoredDescriptor(tok_, d1).lists, (std::vector<std::string>{l, l2}));
  auto attached = StoredDescriptor(tok_, d1).last_update_ms;
  Tick();
  EXPECT_EQ(Link(tok_, "detach", l, "descriptor_ids", {d1}).status, 204u);
  auto s2 = StoredDescriptor(tok_, d1);
  EXPECT_EQ(s2.lists, std::vector<std::string>{l2});
  EXPECT_GT(s2.last_update_ms, attached);
  EXPECT_EQ(StoredDescriptor(tok_, d2).lists, std::vector<std::string>{l});
}

TEST_F(Lists, LinkerErrorsChangeNothing) {
  auto pl = NewList(tok_, "persons");
  auto dl = NewList(tok_, "descriptors");
  auto p1 = NewPerson(tok_), p2 = NewPerson(tok_);
  auto d1 = NewDescriptor(tok_), d2 = NewDescriptor(tok_);
  ASSERT_EQ(Link(tok_, "attach", pl, "person_ids", {p1}).status, 204u);
  ASSERT_EQ(Link(tok_, "attach", dl, "descriptor_ids", {d1}).status, 204u);
  auto d2_update = StoredDescriptor(tok_, d2).last_update_ms;
  Tick();
  auto check_unchanged = [&](const std::string& what) {
    EXPECT_EQ(GetJson("/4/storage/lists/" + pl, tok_).at("count").as_int64(), 1) << what;
    EXPECT_EQ(GetJson("/4/storage/lists/" + dl, tok_).at("count").as_int64(), 1) << what;
    EXPECT_EQ(Ids(Person(tok_, p1).at("lists")), std::vector<std::string>{pl}) << what;
    EXPECT_TRUE(Person(tok_, p2).at("lists").as_array().empty()) << what;
    EXPECT_EQ(StoredDescriptor(tok_, d1).lists, std::vector<std::string>{dl}) << what;
    auto s2 = StoredDescriptor(tok_, d2);
    EXPECT_TRUE(s2.lists.empty()) << what;
    EXPECT_EQ(s2.last_update_ms, d2_update) << what;
  };
  auto ghost = core::NewUuid4();
  // One unknown id among known ones: 400 11020, nothing attached or detached.
  for (const char* action : {"attach", "detach"}) {
    auto r = Link(tok_, action, pl, "person_ids", {p2, ghost, p1});
    EXPECT_EQ(r.status, 400u) << action;
    EXPECT_EQ(r.ErrorCode(), 11020) << action;
    EXPECT_EQ(Detail(r), "One or more persons not found");
    check_unchanged(std::string("persons ") + action);
    auto d = Link(tok_, action, dl, "descriptor_ids", {d2, d1, ghost});
    EXPECT_EQ(d.status, 400u) << action;
    EXPECT_EQ(d.ErrorCode(), 11020) << action;
    EXPECT_EQ(Detail(d), "One or more descriptors not found");
    check_unchanged(std::string("descriptors ") + action);
    // A person id where descriptors are expected is just an unknown descriptor.
    EXPECT_EQ(Link(tok_, action, dl, "descriptor_ids", {d2, p2}).ErrorCode(), 11020);
    check_unchanged("person id as descriptor");
    // Unknown list: 400 22003.
    auto u = Link(tok_, action, ghost, "person_ids", {p2});
    EXPECT_EQ(u.status, 400u);
    EXPECT_EQ(u.ErrorCode(), 22003);
    EXPECT_EQ(Detail(u), "List not found");
    // Wrong type, both ways: 400 22010 naming the type the request needs.
    auto w1 = Link(tok_, action, dl, "person_ids", {p2});
    EXPECT_EQ(w1.status, 400u);
    EXPECT_EQ(w1.ErrorCode(), 22010);
    EXPECT_EQ(Detail(w1), "Wrong list type: expected a persons list");
    auto w2 = Link(tok_, action, pl, "descriptor_ids", {d2});
    EXPECT_EQ(w2.ErrorCode(), 22010);
    EXPECT_EQ(Detail(w2), "Wrong list type: expected a descriptors list");
    check_unchanged("wrong type");
  }

  // Body validation.
  auto send = [&](json::object o) { return SendJson("PATCH", "/4/storage/linker", o, Token(tok_)); };
  json::object good{{"action", "attach"}, {"list_id", pl}, {"person_ids", json::array{p2}}};
  auto without = [&](const char* k) { auto o = good; o.erase(k); return o; };
  EXPECT_EQ(Detail(send(without("action"))), Validation("action", "action is a required property"));
  EXPECT_EQ(Detail(send(without("list_id"))), Validation("list_id", "list_id is a required property"));
  EXPECT_EQ(Detail(send(without("person_ids"))),
            Validation("data", "data must contain exactly one of descriptor_ids, person_ids"));
  auto both = good;
  both["descriptor_ids"] = json::array{d2};
  EXPECT_EQ(Detail(send(both)), Validation("data", "data must contain exactly one of descriptor_ids, person_ids"));
  auto o = good;
  o["action"] = "link";
  EXPECT_EQ(Detail(send(o)), Validation("action", "action must be one of ['attach', 'detach']"));
  o = good;
  o["list_id"] = 5;
  EXPECT_EQ(Detail(send(o)), Validation("list_id", "list_id must be string"));
  o = good;
  o["list_id"] = "not-a-uuid";
  EXPECT_EQ(Detail(send(o)), Validation("list_id", "list_id must match pattern " + kUuidPattern));
  o = good;
  o["person_ids"] = json::array{p2, "x"};
  EXPECT_EQ(Detail(send(o)), Validation("person_ids[1]", "person_ids[1] must match pattern " + kUuidPattern));
  o = good;
  o["person_ids"] = p2;
  EXPECT_EQ(Detail(send(o)), Validation("person_ids", "person_ids must be array"));
  o = good;
  json::array many;
  for (int i = 0; i < 1001; ++i) many.emplace_back(p2);
  o["person_ids"] = many;
  EXPECT_EQ(Detail(send(o)), Validation("person_ids", "person_ids must contain less than or equal to 1000 items"));
  many.erase(many.end() - 1);
  o["person_ids"] = many;  // 1000 (repeated) ids: accepted
  EXPECT_EQ(send(o).status, 204u);
  EXPECT_EQ(Link(tok_, "detach", pl, "person_ids", {p2}).status, 204u);
  o = good;
  o["extra"] = true;
  EXPECT_EQ(Detail(send(o)), Validation("extra", "extra is not an allowed property"));
  EXPECT_EQ(Send("PATCH", "/4/storage/linker", json::serialize(good), Token(tok_)).ErrorCode(), 12017);
  auto h = Token(tok_);
  h.emplace_back("Content-Type", "application/json");
  EXPECT_EQ(Send("PATCH", "/4/storage/linker", "", h).ErrorCode(), 12002);
  check_unchanged("validation");
  EXPECT_EQ(Send("POST", "/4/storage/linker", "", Token(tok_)).ErrorCode(), 12021);
  EXPECT_EQ(Send("PATCH", "/4/storage/linker", json::serialize(good)).ErrorCode(), 12010);
}

TEST_F(Lists, EveryEndpointNeedsCredentials) {
  auto l = NewList(tok_, "persons", "kept");
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"GET", "/4/storage/lists"},        {"POST", "/4/storage/lists?type=persons"},
      {"DELETE", "/4/storage/lists"},     {"GET", "/4/storage/lists/" + l},
      {"PATCH", "/4/storage/lists/" + l}, {"DELETE", "/4/storage/lists/" + l},
      {"PATCH", "/4/storage/linker"},
  };
  for (const auto& [m, t] : calls) {
    auto r = Send(m, t, R"({"list_data":"x","lists":[]})", {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 401u) << m << " " << t;
    EXPECT_EQ(r.ErrorCode(), 12010) << m << " " << t;
  }
  auto got = GetJson("/4/storage/lists/" + l, tok_);
  EXPECT_EQ(got.at("list_data").as_string(), "kept");
  EXPECT_EQ(GetJson("/4/storage/lists", tok_).at("persons_list_count").as_int64(), 1);
}

// Another account's lists, persons and descriptors answer exactly what unknown ids answer, on
// every L endpoint, and are left untouched.
TEST_F(Lists, TenantIsolation) {
  auto a_pl = NewList(tok_, "persons", "a-persons");
  auto a_dl = NewList(tok_, "descriptors", "a-descriptors");
  auto a_person = NewPerson(tok_);
  auto a_desc = NewDescriptor(tok_);
  ASSERT_EQ(Link(tok_, "attach", a_pl, "person_ids", {a_person}).status, 204u);
  ASSERT_EQ(Link(tok_, "attach", a_dl, "descriptor_ids", {a_desc}).status, 204u);
  auto snapshot = [&] {
    return json::serialize(GetJson("/4/storage/lists", tok_)) + json::serialize(GetJson("/4/storage/lists/" + a_pl, tok_)) +
           json::serialize(GetJson("/4/storage/lists/" + a_dl, tok_)) + json::serialize(Person(tok_, a_person));
  };
  auto before = snapshot();

  auto b = Register("intruder@example.com");
  auto b_pl = NewList(b, "persons");
  auto b_dl = NewList(b, "descriptors");
  auto b_person = NewPerson(b);
  auto b_desc = NewDescriptor(b);
  auto unknown = core::NewUuid4();

  auto same = [&](const std::string& what, const Reply& foreign, const Reply& ghost) {
    EXPECT_EQ(foreign.status, ghost.status) << what;
    EXPECT_EQ(foreign.body, ghost.body) << what;
    EXPECT_GE(foreign.status, 400u) << what;
  };
  for (const auto& auth : {Token(b), Basic("intruder@example.com")}) {
    auto send = [&](const std::string& m, const std::string& t, const std::string& body = "") {
      auto h = auth;
      if (!body.empty()) h.emplace_back("Content-Type", "application/json");
      return Send(m, t, body, h);
    };
    auto link = [&](const std::string& action, const std::string& list, const char* key,
                    const std::vector<std::string>& ids) {
      json::array a;
      for (const auto& id : ids) a.emplace_back(id);
      return send("PATCH", "/4/storage/linker",
                  json::serialize(json::object{{"action", action}, {"list_id", list}, {key, a}}));
    };
    for (const auto& al : {a_pl, a_dl}) {
      same("GET list", send("GET", "/4/storage/lists/" + al), send("GET", "/4/storage/lists/" + unknown));
      same("GET list paged", send("GET", "/4/storage/lists/" + al + "?page=1&page_size=5"),
           send("GET", "/4/storage/lists/" + unknown + "?page=1&page_size=5"));
      same("PATCH list", send("PATCH", "/4/storage/lists/" + al, R"({"list_data":"pwned"})"),
           send("PATCH", "/4/storage/lists/" + unknown, R"({"list_data":"pwned"})"));
      same("DELETE list", send("DELETE", "/4/storage/lists/" + al), send("DELETE", "/4/storage/lists/" + unknown));
      // The bulk delete answers 204 for foreign and unknown ids alike, and deletes nothing of A.
      auto bulk_foreign = send("DELETE", "/4/storage/lists", R"({"lists":[")" + al + R"("]})");
      auto bulk_unknown = send("DELETE", "/4/storage/lists", R"({"lists":[")" + unknown + R"("]})");
      EXPECT_EQ(bulk_foreign.status, 204u);
      EXPECT_EQ(bulk_foreign.status, bulk_unknown.status);
      EXPECT_EQ(bulk_foreign.body, bulk_unknown.body);
    }
    for (const char* action : {"attach", "detach"}) {
      // A's lists with B's objects: as an unknown list.
      same("linker foreign persons list", link(action, a_pl, "person_ids", {b_person}),
           link(action, unknown, "person_ids", {b_person}));
      same("linker foreign descriptors list", link(action, a_dl, "descriptor_ids", {b_desc}),
           link(action, unknown, "descriptor_ids", {b_desc}));
      // A's lists with the wrong member type: still as an unknown list (no type is revealed).
      same("linker foreign list, other type", link(action, a_pl, "descriptor_ids", {b_desc}),
           link(action, unknown, "descriptor_ids", {b_desc}));
      // B's lists with A's objects: as unknown objects.
      same("linker foreign person", link(action, b_pl, "person_ids", {a_person}),
           link(action, b_pl, "person_ids", {unknown}));
      same("linker foreign person among own", link(action, b_pl, "person_ids", {b_person, a_person}),
           link(action, b_pl, "person_ids", {b_person, unknown}));
      same("linker foreign descriptor", link(action, b_dl, "descriptor_ids", {a_desc}),
           link(action, b_dl, "descriptor_ids", {unknown}));
      same("linker foreign descriptor among own", link(action, b_dl, "descriptor_ids", {a_desc, b_desc}),
           link(action, b_dl, "descriptor_ids", {unknown, b_desc}));
    }
    auto mine = send("GET", "/4/storage/lists?page_size=1000").Json();
    EXPECT_EQ(mine.at("persons_list_count").as_int64(), 1);
    EXPECT_EQ(mine.at("descriptors_list_count").as_int64(), 1);
    EXPECT_EQ(mine.at("lists").at("person_lists").as_array()[0].at("id").as_string(), b_pl);
    EXPECT_EQ(mine.at("lists").at("descriptor_lists").as_array()[0].at("id").as_string(), b_dl);
  }
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(StoredDescriptor(tok_, a_desc).lists, std::vector<std::string>{a_dl});
  EXPECT_EQ(GetJson("/4/storage/lists/" + b_pl, b).at("count").as_int64(), 0);
  EXPECT_EQ(GetJson("/4/storage/lists/" + b_dl, b).at("count").as_int64(), 0);
  EXPECT_TRUE(StoredDescriptor(b, b_desc).lists.empty());
}

}  // namespace fptest
