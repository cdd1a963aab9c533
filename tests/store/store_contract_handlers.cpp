// Contract cases for handlers (created with the account, policies merged by
// PatchHandlerPolicies with an atomic version bump) and for CreatePersonWithDescriptor (the
// extractor handler's all-or-nothing write).
#include <boost/json.hpp>
#include <set>
#include <thread>
#include <vector>

#include "core/uuid.hpp"
#include "store_contract.hpp"

namespace store_testing {
namespace {
namespace json = boost::json;
using store::Handler;
using store::HandlerType;

constexpr HandlerType kTypes[] = {HandlerType::Extractor, HandlerType::Verify, HandlerType::Identify};

// The policies as a JSON object (backends may format the text differently).
json::object Policies(const Handler& h) {
  json::value v = json::parse(h.policies);
  EXPECT_TRUE(v.is_object()) << h.policies;
  return v.is_object() ? v.as_object() : json::object{};
}

Handler MustGetHandler(store::Store& s, const std::string& account_id, HandlerType type) {
  auto h = GET(s.GetHandler(account_id, type));
  EXPECT_TRUE(h.has_value()) << store::HandlerTypeName(type);
  return h.value_or(Handler{});
}
}  // namespace

TEST_P(StoreContract, CreateAccountCreatesItsThreeHandlers) {
  store::Account a = NewAccount("handlers@example.com", 4321);
  ASSERT_OK(s().CreateAccount(a, NewToken(a.id)));
  std::set<std::string> ids;
  for (HandlerType t : kTypes) {
    Handler h = MustGetHandler(s(), a.id, t);
    EXPECT_TRUE(core::IsUuid4(h.id)) << h.id;
    ids.insert(h.id);
    EXPECT_EQ(h.account_id, a.id);
    EXPECT_EQ(h.type, t);
    EXPECT_EQ(h.version, 1);
    EXPECT_TRUE(Policies(h).empty());
    EXPECT_EQ(h.create_time_ms, 4321);
    EXPECT_EQ(h.last_update_ms, 4321);
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_FALSE(GET(s().GetHandler(core::NewUuid4(), HandlerType::Verify)).has_value());
}

TEST_P(StoreContract, PatchHandlerPoliciesMergesKeysAndBumpsVersion) {
  store::Account a = MustCreateAccount("patch-handler@example.com");
  store::Account b = MustCreateAccount("patch-handler-other@example.com");
  EXPECT_EQ(GET(s().PatchHandlerPolicies(a.id, HandlerType::Verify, R"({"verify_threshold":0.5,"limit":2})", 7000)),
            std::optional<int64_t>(2));
  EXPECT_EQ(GET(s().PatchHandlerPolicies(a.id, HandlerType::Verify, R"({"limit":4,"list_id":"x"})", 8000)),
            std::optional<int64_t>(3));
  Handler h = MustGetHandler(s(), a.id, HandlerType::Verify);
  EXPECT_EQ(h.version, 3);
  EXPECT_EQ(h.last_update_ms, 8000);
  json::object p = Policies(h);
  EXPECT_EQ(p.size(), 3u);
  EXPECT_EQ(p.at("verify_threshold").as_double(), 0.5);
  EXPECT_EQ(p.at("limit").to_number<int64_t>(), 4);
  EXPECT_EQ(p.at("list_id").as_string(), "x");
  // The other handlers of the account and the other account's are untouched.
  EXPECT_EQ(MustGetHandler(s(), a.id, HandlerType::Identify).version, 1);
  EXPECT_EQ(MustGetHandler(s(), b.id, HandlerType::Verify).version, 1);
  EXPECT_TRUE(Policies(MustGetHandler(s(), b.id, HandlerType::Verify)).empty());
  // Unknown account: nothing to patch.
  EXPECT_FALSE(GET(s().PatchHandlerPolicies(core::NewUuid4(), HandlerType::Verify, R"({"a":1})", 9000)).has_value());
  // Not an object: refused, nothing changes.
  for (const char* bad : {"[1]", "3", "not json", ""}) {
    auto r = s().PatchHandlerPolicies(a.id, HandlerType::Verify, bad, 9000);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, core::Errc::Internal);
  }
  EXPECT_EQ(MustGetHandler(s(), a.id, HandlerType::Verify).version, 3);
  // Handlers are not in the change feed.
  EXPECT_EQ(GET(s().LastChangeSeq()), 0);
}

TEST_P(StoreContract, ConcurrentHandlerPatchesLoseNoVersionAndNoKey) {
  store::Account a = MustCreateAccount("concurrent-handler@example.com");
  constexpr int kThreads = 6, kEach = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string key = "k" + std::to_string(t) + "_" + std::to_string(i);
        auto r = s().PatchHandlerPolicies(a.id, HandlerType::Identify, "{\"" + key + "\":" + std::to_string(i) + "}",
                                          10000 + i);
        EXPECT_TRUE(r.ok() && r->has_value()) << key;
      }
    });
  }
  for (auto& t : threads) t.join();
  Handler h = MustGetHandler(s(), a.id, HandlerType::Identify);
  EXPECT_EQ(h.version, 1 + kThreads * kEach);
  EXPECT_EQ(Policies(h).size(), static_cast<std::size_t>(kThreads * kEach));
}

TEST_P(StoreContract, CreatePersonWithDescriptorLinksAllInOneTransaction) {
  store::Account a = MustCreateAccount("pipeline@example.com");
  store::List list = MustCreateList(a.id, store::ListType::Persons);
  const int64_t mark = GET(s().LastChangeSeq());
  store::Person p;
  p.id = core::NewUuid4();
  p.account_id = a.id;
  p.user_data = "ud";
  p.external_id = "ext";
  p.create_time_ms = 5000;
  store::Descriptor d = NewDescriptor(a.id, 5000, 2.0f);
  ASSERT_OK(s().CreatePersonWithDescriptor(p, d, list.id, 5000));

  auto person = GET(s().GetPerson(a.id, p.id));
  ASSERT_TRUE(person.has_value());
  EXPECT_EQ(person->user_data, "ud");
  EXPECT_EQ(person->external_id, std::optional<std::string>("ext"));
  EXPECT_EQ(person->descriptors, std::vector<std::string>{d.id});
  EXPECT_EQ(person->lists, std::vector<std::string>{list.id});
  auto desc = GET(s().GetDescriptor(a.id, d.id));
  ASSERT_TRUE(desc.has_value());
  EXPECT_EQ(desc->person_id, std::optional<std::string>(p.id));
  EXPECT_EQ(desc->values, d.values);

  auto rows = GET(s().ChangesSince(mark, 100));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].kind, store::ChangeKind::DescriptorAdded);
  EXPECT_EQ(rows[0].descriptor_id, d.id);
  EXPECT_EQ(rows[1].kind, store::ChangeKind::DescriptorPersonSet);
  EXPECT_EQ(rows[1].descriptor_id, d.id);
  EXPECT_EQ(rows[1].person_id, p.id);
  EXPECT_EQ(rows[2].kind, store::ChangeKind::ListMemberAdded);
  EXPECT_EQ(rows[2].person_id, p.id);
  EXPECT_EQ(rows[2].list_id, list.id);

  // Without a list: two rows, no list membership.
  store::Person p2 = p;
  p2.id = core::NewUuid4();
  store::Descriptor d2 = NewDescriptor(a.id, 5001, 3.0f);
  const int64_t mark2 = GET(s().LastChangeSeq());
  ASSERT_OK(s().CreatePersonWithDescriptor(p2, d2, std::nullopt, 5001));
  EXPECT_EQ(GET(s().ChangesSince(mark2, 100)).size(), 2u);
  EXPECT_TRUE(GET(s().GetPerson(a.id, p2.id))->lists.empty());
}

TEST_P(StoreContract, CreatePersonWithDescriptorLeavesNothingWhenTheListFails) {
  store::Account a = MustCreateAccount("pipeline-fail@example.com");
  store::Account other = MustCreateAccount("pipeline-other@example.com");
  const std::string foreign = MustCreateList(other.id, store::ListType::Persons).id;
  const std::string descriptors_list = MustCreateList(a.id, store::ListType::Descriptors).id;
  const std::string deleted = MustCreateList(a.id, store::ListType::Persons).id;
  ASSERT_TRUE(GET(s().DeleteList(a.id, deleted, 4000)));
  const int64_t mark = GET(s().LastChangeSeq());
  struct Case {
    std::string list_id;
    core::Errc want;
  };
  for (const Case& c : {Case{foreign, core::Errc::ListNotFoundRef}, Case{deleted, core::Errc::ListNotFoundRef},
                        Case{core::NewUuid4(), core::Errc::ListNotFoundRef},
                        Case{descriptors_list, core::Errc::WrongListType}}) {
    store::Person p;
    p.id = core::NewUuid4();
    p.account_id = a.id;
    p.create_time_ms = 6000;
    store::Descriptor d = NewDescriptor(a.id, 6000, 4.0f);
    auto st = s().CreatePersonWithDescriptor(p, d, c.list_id, 6000);
    ASSERT_FALSE(st.ok()) << c.list_id;
    EXPECT_EQ(st.error().code, c.want);
    EXPECT_FALSE(GET(s().GetPerson(a.id, p.id)).has_value());
    EXPECT_FALSE(GET(s().GetDescriptor(a.id, d.id)).has_value());
    EXPECT_FALSE(GET(s().DescriptorExists(d.id)));
  }
  EXPECT_EQ(GET(s().ListPersons(a.id, {}, {1, 10})).count, 0);
  EXPECT_EQ(GET(s().ListDescriptors(a.id, {1, 10})).count, 0);
  EXPECT_EQ(GET(s().LastChangeSeq()), mark);
  EXPECT_EQ(GET(s().GetList(other.id, foreign))->count, 0);

  // Objects of two accounts are refused outright.
  store::Person p;
  p.id = core::NewUuid4();
  p.account_id = a.id;
  auto st = s().CreatePersonWithDescriptor(p, NewDescriptor(other.id), std::nullopt, 6000);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, core::Errc::Internal);
}

}  // namespace store_testing
