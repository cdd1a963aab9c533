// The contract cases for descriptors, persons, lists, the linker and the descriptor lifetime
// collector (store.hpp). Backend-independent: only store::Store methods are used. Times are
// explicit now_ms values, never the wall clock.
#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/uuid.hpp"
#include "store_contract.hpp"

namespace store_testing {

using core::Errc;
using store::Account;
using store::CollectedDescriptor;
using store::Descriptor;
using store::LinkAction;
using store::List;
using store::ListType;
using store::PageRequest;
using store::Person;
using store::PersonFilter;

// --- fixture helpers ----------------------------------------------------------------------

Person StoreContract::MustCreatePerson(const std::string& account_id, const std::string& user_data,
                                       std::optional<std::string> external_id, int64_t create_time_ms) {
  Person p;
  p.id = core::NewUuid4();
  p.account_id = account_id;
  p.user_data = user_data;
  p.external_id = std::move(external_id);
  p.create_time_ms = create_time_ms;
  auto st = s().CreatePerson(p);
  EXPECT_TRUE(st.ok()) << "CreatePerson -> " << Detail(st.error());
  p.last_update_ms = create_time_ms;
  return p;
}

Descriptor StoreContract::NewDescriptor(const std::string& account_id, int64_t create_time_ms, float seed) {
  Descriptor d;
  d.id = core::NewUuid4();
  d.account_id = account_id;
  d.version = 59;
  for (int i = 0; i < 512; ++i) d.values.push_back(seed * std::sin(static_cast<float>(i) + seed));
  d.has_portrait = true;
  d.create_time_ms = create_time_ms;
  return d;
}

Descriptor StoreContract::MustCreateDescriptor(const std::string& account_id, int64_t create_time_ms, float seed) {
  Descriptor d = NewDescriptor(account_id, create_time_ms, seed);
  auto st = s().CreateDescriptors({d});
  EXPECT_TRUE(st.ok()) << "CreateDescriptors -> " << Detail(st.error());
  d.last_update_ms = create_time_ms;
  return d;
}

List StoreContract::MustCreateList(const std::string& account_id, ListType type, const std::string& list_data,
                                   int64_t create_time_ms) {
  List l;
  l.id = core::NewUuid4();
  l.account_id = account_id;
  l.type = type;
  l.list_data = list_data;
  l.create_time_ms = create_time_ms;
  auto st = s().CreateList(l);
  EXPECT_TRUE(st.ok()) << "CreateList -> " << Detail(st.error());
  return l;
}

namespace {

using Ids = std::vector<std::string>;

template <class T>
Ids IdsOf(const std::vector<T>& items) {
  Ids ids;
  for (const auto& x : items) ids.push_back(x.id);
  return ids;
}

Ids IdsOf(const std::vector<CollectedDescriptor>& items) {
  Ids ids;
  for (const auto& x : items) ids.push_back(x.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Ids Sorted(Ids ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

// The error of a failed Status/Result (or a test failure when it succeeded).
template <class R>
core::Error ErrorOf(const R& r, const char* what) {
  if (r.ok()) {
    ADD_FAILURE() << what << " succeeded, an error was expected";
    return core::Error();
  }
  return r.error();
}
#define ERR(expr) ErrorOf((expr), #expr)

#define EXPECT_ERRC(expr, errc, ...)                                         \
  do {                                                                       \
    core::Error e_ = ERR(expr);                                              \
    EXPECT_EQ(e_.code, errc) << #expr << " -> " << Detail(e_);               \
    EXPECT_EQ(e_.args, (std::vector<std::string>{__VA_ARGS__})) << #expr;    \
  } while (0)

std::vector<uint32_t> Bits(const std::vector<float>& v) {
  std::vector<uint32_t> out;
  for (float f : v) out.push_back(std::bit_cast<uint32_t>(f));
  return out;
}

}  // namespace

// --- descriptors ----------------------------------------------------------------------------

TEST_P(StoreContract, DescriptorsRoundTripBitExact) {
  Account a = MustCreateAccount("desc@example.com");
  Descriptor one = NewDescriptor(a.id, 5000, 0.5f);
  // Values whose bits a lossy encoding would change.
  one.values = {0.0f,
                -0.0f,
                1.0f,
                -1.5f,
                std::numeric_limits<float>::denorm_min(),
                std::numeric_limits<float>::max(),
                std::numeric_limits<float>::infinity(),
                std::bit_cast<float>(uint32_t{0x7fc12345}),  // NaN with a payload
                0.1f};
  one.version = std::numeric_limits<uint32_t>::max();
  Descriptor two = NewDescriptor(a.id, 5000, 2.0f);
  two.has_portrait = false;
  two.values.clear();  // an empty vector is stored as such
  two.last_update_ms = 6000;
  ASSERT_OK(s().CreateDescriptors({one, two}));

  auto got = GET(s().GetDescriptor(a.id, one.id));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, one.id);
  EXPECT_EQ(got->account_id, a.id);
  EXPECT_EQ(got->version, one.version);
  EXPECT_EQ(Bits(got->values), Bits(one.values));
  EXPECT_FALSE(got->person_id.has_value());
  EXPECT_TRUE(got->has_portrait);
  EXPECT_EQ(got->create_time_ms, 5000);
  EXPECT_EQ(got->last_update_ms, 5000);  // 0 means create_time_ms
  EXPECT_TRUE(got->lists.empty());

  auto got2 = GET(s().GetDescriptor(a.id, two.id));
  ASSERT_TRUE(got2.has_value());
  EXPECT_TRUE(got2->values.empty());
  EXPECT_FALSE(got2->has_portrait);
  EXPECT_EQ(got2->last_update_ms, 6000);

  EXPECT_FALSE(GET(s().GetDescriptor(a.id, core::NewUuid4())).has_value());
  EXPECT_TRUE(GET(s().DescriptorExists(one.id)));
  EXPECT_FALSE(GET(s().DescriptorExists(core::NewUuid4())));
  EXPECT_OK(s().CreateDescriptors({}));
}

TEST_P(StoreContract, CreateDescriptorsIsAllOrNothing) {
  Account a = MustCreateAccount("batch@example.com");
  Descriptor existing = MustCreateDescriptor(a.id);
  Descriptor fresh = NewDescriptor(a.id);
  Descriptor clash = NewDescriptor(a.id);
  clash.id = existing.id;
  EXPECT_FALSE(s().CreateDescriptors({fresh, clash}).ok());
  EXPECT_FALSE(GET(s().DescriptorExists(fresh.id)));

  // A new descriptor cannot be born linked: links go through the link methods.
  Person p = MustCreatePerson(a.id);
  Descriptor linked = NewDescriptor(a.id);
  linked.person_id = p.id;
  Descriptor plain = NewDescriptor(a.id);
  EXPECT_ERRC(s().CreateDescriptors({plain, linked}), Errc::Internal);
  EXPECT_FALSE(GET(s().DescriptorExists(plain.id)));

  // Unknown account.
  Descriptor orphan = NewDescriptor(core::NewUuid4());
  EXPECT_FALSE(s().CreateDescriptors({orphan}).ok());
  EXPECT_FALSE(GET(s().DescriptorExists(orphan.id)));
  EXPECT_EQ(GET(s().ListDescriptors(a.id, PageRequest{1, 10})).count, 1);
}

TEST_P(StoreContract, ListDescriptorsPagesWithCountAndOptionalValues) {
  Account a = MustCreateAccount("dpages@example.com");
  Account other = MustCreateAccount("dpages-other@example.com");
  MustCreateDescriptor(other.id, 1);
  std::vector<Descriptor> all;
  // Out of creation order, with ties (ties list in insertion order).
  for (int i = 0; i < 13; ++i) all.push_back(MustCreateDescriptor(a.id, 9000 - (i / 4) * 100, 1.0f + i));
  std::stable_sort(all.begin(), all.end(),
                   [](const Descriptor& x, const Descriptor& y) { return x.create_time_ms < y.create_time_ms; });

  Ids seen;
  for (int64_t page = 1; page <= 3; ++page) {
    auto p = GET(s().ListDescriptors(a.id, PageRequest{page, 5}));
    EXPECT_EQ(p.count, 13);
    EXPECT_EQ(p.items.size(), page < 3 ? 5u : 3u);
    for (const auto& d : p.items) {
      EXPECT_TRUE(d.values.empty()) << "values only when asked";
      EXPECT_EQ(d.account_id, a.id);
      seen.push_back(d.id);
    }
  }
  EXPECT_EQ(seen, IdsOf(all));

  auto with = GET(s().ListDescriptors(a.id, PageRequest{2, 5}, true));
  ASSERT_EQ(with.items.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(Bits(with.items[i].values), Bits(all[5 + i].values));

  auto past = GET(s().ListDescriptors(a.id, PageRequest{4, 5}));
  EXPECT_TRUE(past.items.empty());
  EXPECT_EQ(past.count, 13);
  auto huge = GET(s().ListDescriptors(a.id, PageRequest{std::numeric_limits<int64_t>::max(), 1000}));
  EXPECT_TRUE(huge.items.empty());
  EXPECT_EQ(huge.count, 13);
}

TEST_P(StoreContract, ForEachDescriptorStreamsEveryAccountBitExact) {
  Account a = MustCreateAccount("each-a@example.com");
  Account b = MustCreateAccount("each-b@example.com");
  std::vector<Descriptor> all = {MustCreateDescriptor(a.id, 300, 3.0f), MustCreateDescriptor(b.id, 100, 1.0f),
                                 MustCreateDescriptor(a.id, 200, 2.0f), MustCreateDescriptor(b.id, 200, 4.0f)};
  Descriptor odd = NewDescriptor(a.id, 250);
  odd.values = {-0.0f, std::bit_cast<float>(uint32_t{0xffc00001}), std::numeric_limits<float>::denorm_min()};
  ASSERT_OK(s().CreateDescriptors({odd}));
  all.push_back(odd);
  std::stable_sort(all.begin(), all.end(),
                   [](const Descriptor& x, const Descriptor& y) { return x.create_time_ms < y.create_time_ms; });
  Person p = MustCreatePerson(a.id);
  List l = MustCreateList(b.id, ListType::Descriptors);
  // Creation order: b@100, a@200, b@200 (tie: insertion order), odd (a@250), a@300.
  ASSERT_EQ(all[1].account_id, a.id);
  ASSERT_EQ(all[0].account_id, b.id);
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, all[1].id, LinkAction::Attach, 1));
  ASSERT_OK(s().LinkList(b.id, l.id, ListType::Descriptors, LinkAction::Attach, {all[0].id}, 1));

  std::vector<Descriptor> seen;
  ASSERT_OK(s().ForEachDescriptor([&](const Descriptor& d) {
    seen.push_back(d);
    return true;
  }));
  ASSERT_EQ(IdsOf(seen), IdsOf(all));
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(Bits(seen[i].values), Bits(all[i].values)) << i;
    EXPECT_EQ(seen[i].account_id, all[i].account_id);
    EXPECT_EQ(seen[i].version, all[i].version);
  }
  EXPECT_EQ(seen[0].lists, Ids{l.id});
  int with_person = 0;
  for (const auto& d : seen)
    if (d.person_id) {
      ++with_person;
      EXPECT_EQ(*d.person_id, p.id);
    }
  EXPECT_EQ(with_person, 1);

  int calls = 0;
  ASSERT_OK(s().ForEachDescriptor([&](const Descriptor&) { return ++calls < 2; }));
  EXPECT_EQ(calls, 2);
  // The store stays usable (the read transaction ended).
  MustCreateDescriptor(a.id);
}

// --- persons --------------------------------------------------------------------------------

TEST_P(StoreContract, CreateAndGetPerson) {
  Account a = MustCreateAccount("person@example.com");
  Person with = MustCreatePerson(a.id, "Ivan 'quoted' \"x\" 🙂", std::string("ext-1"), 4000);
  Person bare = MustCreatePerson(a.id);

  auto got = GET(s().GetPerson(a.id, with.id));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, with.id);
  EXPECT_EQ(got->account_id, a.id);
  EXPECT_EQ(got->user_data, with.user_data);
  EXPECT_EQ(got->external_id, std::optional<std::string>("ext-1"));
  EXPECT_EQ(got->create_time_ms, 4000);
  EXPECT_EQ(got->last_update_ms, 4000);
  EXPECT_TRUE(got->descriptors.empty());
  EXPECT_TRUE(got->lists.empty());

  auto got_bare = GET(s().GetPerson(a.id, bare.id));
  ASSERT_TRUE(got_bare.has_value());
  EXPECT_EQ(got_bare->user_data, "");
  EXPECT_FALSE(got_bare->external_id.has_value());
  EXPECT_FALSE(GET(s().GetPerson(a.id, core::NewUuid4())).has_value());

  // Duplicate id and unknown account fail.
  EXPECT_FALSE(s().CreatePerson(with).ok());
  Person orphan = with;
  orphan.id = core::NewUuid4();
  orphan.account_id = core::NewUuid4();
  EXPECT_FALSE(s().CreatePerson(orphan).ok());
  EXPECT_FALSE(GET(s().GetPerson(orphan.account_id, orphan.id)).has_value());
}

TEST_P(StoreContract, ListPersonsPagesAndFilters) {
  Account a = MustCreateAccount("filters@example.com");
  Account other = MustCreateAccount("filters-other@example.com");
  MustCreatePerson(other.id, "Alice", std::string("e1"), 1);
  Person p1 = MustCreatePerson(a.id, "Alice Smith", std::string("e1"), 5000);
  Person p2 = MustCreatePerson(a.id, "alice lower", std::string("e2"), 4000);
  Person p3 = MustCreatePerson(a.id, "100% sure_thing", std::nullopt, 5000);
  Person p4 = MustCreatePerson(a.id, "100 percent sureXthing", std::string("e1"), 6000);
  Person p5 = MustCreatePerson(a.id, "", std::string("E1"), 3000);

  auto names = [&](const PersonFilter& f, PageRequest page = {1, 100}) {
    auto r = GET(s().ListPersons(a.id, f, page));
    return std::make_pair(IdsOf(r.items), r.count);
  };
  // No filter: creation order, ties in insertion order; count = total.
  EXPECT_EQ(names({}), std::make_pair(Ids{p5.id, p2.id, p1.id, p3.id, p4.id}, int64_t{5}));
  EXPECT_EQ(names({}, {2, 2}), std::make_pair(Ids{p1.id, p3.id}, int64_t{5}));
  EXPECT_EQ(names({}, {3, 2}), std::make_pair(Ids{p4.id}, int64_t{5}));
  EXPECT_EQ(names({}, {4, 2}), std::make_pair(Ids{}, int64_t{5}));
  // Substring, case-sensitive.
  EXPECT_EQ(names({std::string("Alice"), std::nullopt}), std::make_pair(Ids{p1.id}, int64_t{1}));
  EXPECT_EQ(names({std::string("lice"), std::nullopt}), std::make_pair(Ids{p2.id, p1.id}, int64_t{2}));
  // '%' and '_' are literal characters, not wildcards.
  EXPECT_EQ(names({std::string("100%"), std::nullopt}), std::make_pair(Ids{p3.id}, int64_t{1}));
  EXPECT_EQ(names({std::string("sure_thing"), std::nullopt}), std::make_pair(Ids{p3.id}, int64_t{1}));
  EXPECT_EQ(names({std::string("%"), std::nullopt}), std::make_pair(Ids{p3.id}, int64_t{1}));
  EXPECT_EQ(names({std::string("_"), std::nullopt}), std::make_pair(Ids{p3.id}, int64_t{1}));
  EXPECT_EQ(names({std::string("nobody"), std::nullopt}), std::make_pair(Ids{}, int64_t{0}));
  // An empty substring is contained in every user_data.
  EXPECT_EQ(names({std::string(""), std::nullopt}).second, 5);
  // external_id: exact and case-sensitive.
  EXPECT_EQ(names({std::nullopt, std::string("e1")}), std::make_pair(Ids{p1.id, p4.id}, int64_t{2}));
  EXPECT_EQ(names({std::nullopt, std::string("E1")}), std::make_pair(Ids{p5.id}, int64_t{1}));
  EXPECT_EQ(names({std::nullopt, std::string("e")}), std::make_pair(Ids{}, int64_t{0}));
  EXPECT_EQ(names({std::nullopt, std::string("e1")}, {2, 1}), std::make_pair(Ids{p4.id}, int64_t{2}));
  // Both filters.
  EXPECT_EQ(names({std::string("100"), std::string("e1")}), std::make_pair(Ids{p4.id}, int64_t{1}));
  EXPECT_EQ(names({std::string("Smith"), std::string("e2")}), std::make_pair(Ids{}, int64_t{0}));
}

TEST_P(StoreContract, UpdatePersonChangesOnlyGivenFields) {
  Account a = MustCreateAccount("upd@example.com");
  Person p = MustCreatePerson(a.id, "before", std::string("ext"), 1000);

  EXPECT_TRUE(GET(s().UpdatePerson(a.id, p.id, std::string("after"), std::nullopt, 2000)));
  auto got = GET(s().GetPerson(a.id, p.id));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->user_data, "after");
  EXPECT_EQ(got->external_id, std::optional<std::string>("ext"));
  EXPECT_EQ(got->last_update_ms, 2000);
  EXPECT_EQ(got->create_time_ms, 1000);

  EXPECT_TRUE(GET(s().UpdatePerson(a.id, p.id, std::nullopt, std::string("ext2"), 3000)));
  got = GET(s().GetPerson(a.id, p.id));
  EXPECT_EQ(got->user_data, "after");
  EXPECT_EQ(got->external_id, std::optional<std::string>("ext2"));
  EXPECT_EQ(got->last_update_ms, 3000);

  EXPECT_TRUE(GET(s().UpdatePerson(a.id, p.id, std::string(""), std::string("ext3"), 4000)));
  got = GET(s().GetPerson(a.id, p.id));
  EXPECT_EQ(got->user_data, "");
  EXPECT_EQ(got->external_id, std::optional<std::string>("ext3"));

  // Nothing given: reports existence, changes nothing.
  EXPECT_TRUE(GET(s().UpdatePerson(a.id, p.id, std::nullopt, std::nullopt, 5000)));
  EXPECT_EQ(GET(s().GetPerson(a.id, p.id))->last_update_ms, 4000);
  EXPECT_FALSE(GET(s().UpdatePerson(a.id, core::NewUuid4(), std::string("x"), std::nullopt, 5000)));
  EXPECT_FALSE(GET(s().UpdatePerson(a.id, core::NewUuid4(), std::nullopt, std::nullopt, 5000)));
}

TEST_P(StoreContract, LinkPersonDescriptorAttachDetach) {
  Account a = MustCreateAccount("link@example.com");
  Person p = MustCreatePerson(a.id, "p", std::nullopt, 1000);
  Person q = MustCreatePerson(a.id, "q", std::nullopt, 1000);
  Descriptor d1 = MustCreateDescriptor(a.id, 1000);
  Descriptor d2 = MustCreateDescriptor(a.id, 1000);
  Descriptor d3 = MustCreateDescriptor(a.id, 1000);

  // Link order, not creation order.
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d2.id, LinkAction::Attach, 2000));
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d1.id, LinkAction::Attach, 2100));
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d3.id, LinkAction::Attach, 2200));
  auto got = GET(s().GetPerson(a.id, p.id));
  EXPECT_EQ(got->descriptors, (Ids{d2.id, d1.id, d3.id}));
  EXPECT_EQ(got->last_update_ms, 2200);
  auto gd = GET(s().GetDescriptor(a.id, d1.id));
  EXPECT_EQ(gd->person_id, std::optional<std::string>(p.id));
  EXPECT_EQ(gd->last_update_ms, 2100);

  // Attaching again to the same person: no-op, nothing touched.
  EXPECT_OK(s().LinkPersonDescriptor(a.id, p.id, d1.id, LinkAction::Attach, 9999));
  EXPECT_EQ(GET(s().GetPerson(a.id, p.id))->descriptors, (Ids{d2.id, d1.id, d3.id}));
  EXPECT_EQ(GET(s().GetPerson(a.id, p.id))->last_update_ms, 2200);
  EXPECT_EQ(GET(s().GetDescriptor(a.id, d1.id))->last_update_ms, 2100);

  // Another person: already attached.
  EXPECT_ERRC(s().LinkPersonDescriptor(a.id, q.id, d1.id, LinkAction::Attach, 3000), Errc::DescriptorAlreadyAttached);
  EXPECT_TRUE(GET(s().GetPerson(a.id, q.id))->descriptors.empty());
  // Detaching from a person it does not belong to: no-op (it stays with p).
  EXPECT_OK(s().LinkPersonDescriptor(a.id, q.id, d1.id, LinkAction::Detach, 3000));
  EXPECT_EQ(GET(s().GetDescriptor(a.id, d1.id))->person_id, std::optional<std::string>(p.id));
  EXPECT_EQ(GET(s().GetPerson(a.id, q.id))->last_update_ms, 1000);

  // Errors: the person is checked first.
  const std::string unknown = core::NewUuid4();
  EXPECT_ERRC(s().LinkPersonDescriptor(a.id, unknown, d1.id, LinkAction::Attach, 3000), Errc::PersonNotFound);
  EXPECT_ERRC(s().LinkPersonDescriptor(a.id, unknown, unknown, LinkAction::Detach, 3000), Errc::PersonNotFound);
  EXPECT_ERRC(s().LinkPersonDescriptor(a.id, p.id, unknown, LinkAction::Attach, 3000), Errc::DescriptorNotFoundRef,
              unknown);
  EXPECT_ERRC(s().LinkPersonDescriptor(a.id, p.id, unknown, LinkAction::Detach, 3000), Errc::DescriptorNotFoundRef,
              unknown);

  // Detach, then attach to the other person.
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d1.id, LinkAction::Detach, 4000));
  EXPECT_EQ(GET(s().GetPerson(a.id, p.id))->descriptors, (Ids{d2.id, d3.id}));
  EXPECT_EQ(GET(s().GetPerson(a.id, p.id))->last_update_ms, 4000);
  gd = GET(s().GetDescriptor(a.id, d1.id));
  EXPECT_FALSE(gd->person_id.has_value());
  EXPECT_EQ(gd->last_update_ms, 4000);
  EXPECT_OK(s().LinkPersonDescriptor(a.id, p.id, d1.id, LinkAction::Detach, 4500));  // non-member: no-op
  EXPECT_EQ(GET(s().GetPerson(a.id, p.id))->last_update_ms, 4000);
  ASSERT_OK(s().LinkPersonDescriptor(a.id, q.id, d1.id, LinkAction::Attach, 5000));
  EXPECT_EQ(GET(s().GetPerson(a.id, q.id))->descriptors, (Ids{d1.id}));
  // Re-attaching to p puts d1 last in p's link order.
  ASSERT_OK(s().LinkPersonDescriptor(a.id, q.id, d1.id, LinkAction::Detach, 5100));
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d1.id, LinkAction::Attach, 5200));
  EXPECT_EQ(GET(s().GetPerson(a.id, p.id))->descriptors, (Ids{d2.id, d3.id, d1.id}));
}

TEST_P(StoreContract, DeletePersonUnlinksDescriptorsAndLists) {
  Account a = MustCreateAccount("delp@example.com");
  Person p = MustCreatePerson(a.id);
  Person keep = MustCreatePerson(a.id);
  Descriptor d = MustCreateDescriptor(a.id, 1000);
  Descriptor kept = MustCreateDescriptor(a.id, 1000);
  List l = MustCreateList(a.id, ListType::Persons);
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d.id, LinkAction::Attach, 1500));
  ASSERT_OK(s().LinkPersonDescriptor(a.id, keep.id, kept.id, LinkAction::Attach, 1500));
  ASSERT_OK(s().LinkList(a.id, l.id, ListType::Persons, LinkAction::Attach, {p.id, keep.id}, 1500));

  EXPECT_TRUE(GET(s().DeletePerson(a.id, p.id, 2000)));
  EXPECT_FALSE(GET(s().GetPerson(a.id, p.id)).has_value());
  EXPECT_FALSE(GET(s().DeletePerson(a.id, p.id, 2000)));
  auto gd = GET(s().GetDescriptor(a.id, d.id));
  ASSERT_TRUE(gd.has_value()) << "deleting a person keeps its descriptors";
  EXPECT_FALSE(gd->person_id.has_value());
  EXPECT_EQ(gd->last_update_ms, 2000);
  EXPECT_EQ(GET(s().GetList(a.id, l.id))->count, 1);
  EXPECT_EQ(IdsOf(GET(s().ListPersonsInList(a.id, l.id, PageRequest{1, 10})).items), Ids{keep.id});
  // The other person is untouched.
  EXPECT_EQ(GET(s().GetPerson(a.id, keep.id))->descriptors, Ids{kept.id});
  EXPECT_EQ(GET(s().GetDescriptor(a.id, kept.id))->person_id, std::optional<std::string>(keep.id));
  EXPECT_FALSE(GET(s().DeletePerson(a.id, core::NewUuid4(), 2000)));
}

// --- lists ----------------------------------------------------------------------------------

TEST_P(StoreContract, CreateGetUpdateAndListLists) {
  Account a = MustCreateAccount("lists@example.com");
  List p1 = MustCreateList(a.id, ListType::Persons, "first", 2000);
  List d1 = MustCreateList(a.id, ListType::Descriptors, "descs", 1500);
  List p2 = MustCreateList(a.id, ListType::Persons, "", 1000);
  List p3 = MustCreateList(a.id, ListType::Persons, "tie", 2000);

  auto got = GET(s().GetList(a.id, p1.id));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, p1.id);
  EXPECT_EQ(got->account_id, a.id);
  EXPECT_EQ(got->type, ListType::Persons);
  EXPECT_EQ(got->list_data, "first");
  EXPECT_EQ(got->create_time_ms, 2000);
  EXPECT_EQ(got->count, 0);
  EXPECT_EQ(GET(s().GetList(a.id, d1.id))->type, ListType::Descriptors);
  EXPECT_FALSE(GET(s().GetList(a.id, core::NewUuid4())).has_value());
  EXPECT_EQ(GET(s().GetListType(a.id, p1.id)), std::optional<ListType>(ListType::Persons));
  EXPECT_EQ(GET(s().GetListType(a.id, d1.id)), std::optional<ListType>(ListType::Descriptors));
  EXPECT_FALSE(GET(s().GetListType(a.id, core::NewUuid4())).has_value());
  Account other = MustCreateAccount("lists-other@example.com");
  EXPECT_FALSE(GET(s().GetListType(other.id, p1.id)).has_value()) << "another account's list is unknown";

  auto persons_lists = GET(s().ListLists(a.id, ListType::Persons, PageRequest{1, 10}));
  EXPECT_EQ(persons_lists.count, 3);
  EXPECT_EQ(IdsOf(persons_lists.items), (Ids{p2.id, p1.id, p3.id}));
  auto page2 = GET(s().ListLists(a.id, ListType::Persons, PageRequest{2, 2}));
  EXPECT_EQ(page2.count, 3);
  EXPECT_EQ(IdsOf(page2.items), Ids{p3.id});
  auto descriptor_lists = GET(s().ListLists(a.id, ListType::Descriptors, PageRequest{1, 10}));
  EXPECT_EQ(descriptor_lists.count, 1);
  EXPECT_EQ(IdsOf(descriptor_lists.items), Ids{d1.id});
  EXPECT_TRUE(GET(s().ListLists(a.id, ListType::Descriptors, PageRequest{2, 10})).items.empty());

  EXPECT_TRUE(GET(s().UpdateListData(a.id, p1.id, "renamed")));
  EXPECT_EQ(GET(s().GetList(a.id, p1.id))->list_data, "renamed");
  EXPECT_TRUE(GET(s().UpdateListData(a.id, p1.id, "renamed")));
  EXPECT_FALSE(GET(s().UpdateListData(a.id, core::NewUuid4(), "x")));

  EXPECT_FALSE(s().CreateList(p1).ok()) << "duplicate id";
}

TEST_P(StoreContract, LinkerAttachesAndDetachesMembers) {
  Account a = MustCreateAccount("linker@example.com");
  List pl = MustCreateList(a.id, ListType::Persons);
  List pl2 = MustCreateList(a.id, ListType::Persons);
  List dl = MustCreateList(a.id, ListType::Descriptors);
  List dl2 = MustCreateList(a.id, ListType::Descriptors);
  Person p1 = MustCreatePerson(a.id, "1", std::nullopt, 3000);
  Person p2 = MustCreatePerson(a.id, "2", std::nullopt, 1000);
  Person p3 = MustCreatePerson(a.id, "3", std::nullopt, 2000);
  Descriptor d1 = MustCreateDescriptor(a.id, 3000);
  Descriptor d2 = MustCreateDescriptor(a.id, 1000);

  ASSERT_OK(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Attach, {p1.id, p2.id, p3.id}, 5000));
  ASSERT_OK(s().LinkList(a.id, pl2.id, ListType::Persons, LinkAction::Attach, {p1.id}, 5100));
  ASSERT_OK(s().LinkList(a.id, dl2.id, ListType::Descriptors, LinkAction::Attach, {d1.id}, 5200));
  ASSERT_OK(s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Attach, {d1.id, d2.id, d1.id}, 5300));

  EXPECT_EQ(GET(s().GetList(a.id, pl.id))->count, 3);
  EXPECT_EQ(GET(s().GetList(a.id, dl.id))->count, 2);
  auto lists = GET(s().ListLists(a.id, ListType::Persons, PageRequest{1, 10}));
  ASSERT_EQ(lists.items.size(), 2u);
  EXPECT_EQ(lists.items[0].count, 3);
  EXPECT_EQ(lists.items[1].count, 1);

  // Members in creation order; count = members.
  auto members = GET(s().ListPersonsInList(a.id, pl.id, PageRequest{1, 10}));
  EXPECT_EQ(members.count, 3);
  EXPECT_EQ(IdsOf(members.items), (Ids{p2.id, p3.id, p1.id}));
  auto members_p2 = GET(s().ListPersonsInList(a.id, pl.id, PageRequest{2, 2}));
  EXPECT_EQ(members_p2.count, 3);
  EXPECT_EQ(IdsOf(members_p2.items), Ids{p1.id});
  // The arrays of the members are filled (oldest link first).
  EXPECT_EQ(members_p2.items[0].lists, (Ids{pl.id, pl2.id}));
  auto dmembers = GET(s().ListDescriptorsInList(a.id, dl.id, PageRequest{1, 10}));
  EXPECT_EQ(dmembers.count, 2);
  EXPECT_EQ(IdsOf(dmembers.items), (Ids{d2.id, d1.id}));
  EXPECT_EQ(dmembers.items[1].lists, (Ids{dl2.id, dl.id}));
  EXPECT_TRUE(dmembers.items[1].values.empty());
  EXPECT_TRUE(GET(s().ListDescriptorsInList(a.id, dl.id, PageRequest{3, 1})).items.empty());

  EXPECT_EQ(GET(s().GetPerson(a.id, p1.id))->lists, (Ids{pl.id, pl2.id}));
  EXPECT_EQ(GET(s().GetPerson(a.id, p1.id))->last_update_ms, 5100);
  EXPECT_EQ(GET(s().GetDescriptor(a.id, d1.id))->lists, (Ids{dl2.id, dl.id}));
  EXPECT_EQ(GET(s().GetDescriptor(a.id, d1.id))->last_update_ms, 5300);
  EXPECT_EQ(IdsOf(GET(s().ListDescriptors(a.id, PageRequest{1, 10})).items), (Ids{d2.id, d1.id}));
  EXPECT_EQ(GET(s().ListDescriptors(a.id, PageRequest{1, 10})).items[1].lists, (Ids{dl2.id, dl.id}));
  EXPECT_EQ(GET(s().ListPersons(a.id, {}, PageRequest{1, 10})).items[2].lists, (Ids{pl.id, pl2.id}));

  // Attaching a member again and detaching a non-member are no-ops (nothing touched).
  EXPECT_OK(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Attach, {p1.id}, 9000));
  EXPECT_OK(s().LinkList(a.id, pl2.id, ListType::Persons, LinkAction::Detach, {p2.id}, 9000));
  EXPECT_OK(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Attach, {}, 9000));
  EXPECT_EQ(GET(s().GetPerson(a.id, p1.id))->lists, (Ids{pl.id, pl2.id}));
  EXPECT_EQ(GET(s().GetPerson(a.id, p1.id))->last_update_ms, 5100);
  EXPECT_EQ(GET(s().GetPerson(a.id, p2.id))->last_update_ms, 5000);
  EXPECT_EQ(GET(s().GetList(a.id, pl.id))->count, 3);

  // Detach.
  ASSERT_OK(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Detach, {p1.id, p3.id}, 6000));
  EXPECT_EQ(IdsOf(GET(s().ListPersonsInList(a.id, pl.id, PageRequest{1, 10})).items), Ids{p2.id});
  EXPECT_EQ(GET(s().GetPerson(a.id, p1.id))->lists, Ids{pl2.id});
  EXPECT_EQ(GET(s().GetPerson(a.id, p1.id))->last_update_ms, 6000);
  ASSERT_OK(s().LinkList(a.id, dl2.id, ListType::Descriptors, LinkAction::Detach, {d1.id}, 6100));
  EXPECT_EQ(GET(s().GetDescriptor(a.id, d1.id))->lists, Ids{dl.id});
  EXPECT_EQ(GET(s().GetDescriptor(a.id, d1.id))->last_update_ms, 6100);
  // Re-attaching puts the link last.
  ASSERT_OK(s().LinkList(a.id, dl2.id, ListType::Descriptors, LinkAction::Attach, {d1.id}, 6200));
  EXPECT_EQ(GET(s().GetDescriptor(a.id, d1.id))->lists, (Ids{dl.id, dl2.id}));
}

TEST_P(StoreContract, LinkerErrors) {
  Account a = MustCreateAccount("linkerr@example.com");
  List pl = MustCreateList(a.id, ListType::Persons);
  List dl = MustCreateList(a.id, ListType::Descriptors);
  Person p = MustCreatePerson(a.id);
  Descriptor d = MustCreateDescriptor(a.id);
  const std::string unknown = core::NewUuid4();

  EXPECT_ERRC(s().LinkList(a.id, unknown, ListType::Persons, LinkAction::Attach, {p.id}, 1), Errc::ListNotFoundRef);
  EXPECT_ERRC(s().LinkList(a.id, unknown, ListType::Descriptors, LinkAction::Detach, {}, 1), Errc::ListNotFoundRef);
  // WrongListType names the type the list expects.
  EXPECT_ERRC(s().LinkList(a.id, pl.id, ListType::Descriptors, LinkAction::Attach, {d.id}, 1), Errc::WrongListType,
              "persons");
  EXPECT_ERRC(s().LinkList(a.id, dl.id, ListType::Persons, LinkAction::Attach, {p.id}, 1), Errc::WrongListType,
              "descriptors");
  EXPECT_ERRC(s().LinkList(a.id, dl.id, ListType::Persons, LinkAction::Detach, {}, 1), Errc::WrongListType,
              "descriptors");
  // ObjectsNotFound names the member kind; a descriptor id is not a person and vice versa.
  EXPECT_ERRC(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Attach, {unknown}, 1), Errc::ObjectsNotFound,
              "persons");
  EXPECT_ERRC(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Attach, {d.id}, 1), Errc::ObjectsNotFound,
              "persons");
  EXPECT_ERRC(s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Detach, {p.id}, 1), Errc::ObjectsNotFound,
              "descriptors");
  EXPECT_ERRC(s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Attach, {"not-a-uuid"}, 1),
              Errc::ObjectsNotFound, "descriptors");

  // Own-resource reads of a list's members.
  EXPECT_ERRC(s().ListPersonsInList(a.id, unknown, PageRequest{1, 10}), Errc::ListNotFound);
  EXPECT_ERRC(s().ListDescriptorsInList(a.id, unknown, PageRequest{1, 10}), Errc::ListNotFound);
  EXPECT_ERRC(s().ListPersonsInList(a.id, dl.id, PageRequest{1, 10}), Errc::WrongListType, "descriptors");
  EXPECT_ERRC(s().ListDescriptorsInList(a.id, pl.id, PageRequest{1, 10}), Errc::WrongListType, "persons");
}

TEST_P(StoreContract, LinkerIsAllOrNothing) {
  Account a = MustCreateAccount("atomic@example.com");
  List pl = MustCreateList(a.id, ListType::Persons);
  List dl = MustCreateList(a.id, ListType::Descriptors);
  Person p1 = MustCreatePerson(a.id, "", std::nullopt, 1000);
  Person p2 = MustCreatePerson(a.id, "", std::nullopt, 1000);
  Descriptor d1 = MustCreateDescriptor(a.id, 1000);
  Descriptor d2 = MustCreateDescriptor(a.id, 1000);
  const std::string unknown = core::NewUuid4();

  // One unknown id, last or first: nothing is attached.
  EXPECT_ERRC(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Attach, {p1.id, p2.id, unknown}, 2000),
              Errc::ObjectsNotFound, "persons");
  EXPECT_ERRC(s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Attach, {unknown, d1.id, d2.id}, 2000),
              Errc::ObjectsNotFound, "descriptors");
  EXPECT_EQ(GET(s().GetList(a.id, pl.id))->count, 0);
  EXPECT_EQ(GET(s().GetList(a.id, dl.id))->count, 0);
  EXPECT_TRUE(GET(s().GetPerson(a.id, p1.id))->lists.empty());
  EXPECT_EQ(GET(s().GetPerson(a.id, p1.id))->last_update_ms, 1000);
  EXPECT_EQ(GET(s().GetDescriptor(a.id, d1.id))->last_update_ms, 1000);

  // Nothing is detached either.
  ASSERT_OK(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Attach, {p1.id, p2.id}, 3000));
  ASSERT_OK(s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Attach, {d1.id, d2.id}, 3000));
  EXPECT_ERRC(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Detach, {p1.id, unknown, p2.id}, 4000),
              Errc::ObjectsNotFound, "persons");
  EXPECT_ERRC(s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Detach, {d1.id, d2.id, unknown}, 4000),
              Errc::ObjectsNotFound, "descriptors");
  EXPECT_EQ(IdsOf(GET(s().ListPersonsInList(a.id, pl.id, PageRequest{1, 10})).items), (Ids{p1.id, p2.id}));
  EXPECT_EQ(GET(s().GetList(a.id, dl.id))->count, 2);
  EXPECT_EQ(GET(s().GetPerson(a.id, p2.id))->last_update_ms, 3000);
  EXPECT_EQ(GET(s().GetDescriptor(a.id, d2.id))->last_update_ms, 3000);
}

TEST_P(StoreContract, DeleteListUnlinksMembersAndKeepsThem) {
  Account a = MustCreateAccount("dell@example.com");
  List pl = MustCreateList(a.id, ListType::Persons);
  List dl = MustCreateList(a.id, ListType::Descriptors);
  List keep = MustCreateList(a.id, ListType::Descriptors);
  Person p = MustCreatePerson(a.id);
  Descriptor d = MustCreateDescriptor(a.id, 1000);
  ASSERT_OK(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Attach, {p.id}, 1500));
  ASSERT_OK(s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Attach, {d.id}, 1500));
  ASSERT_OK(s().LinkList(a.id, keep.id, ListType::Descriptors, LinkAction::Attach, {d.id}, 1600));

  EXPECT_TRUE(GET(s().DeleteList(a.id, pl.id, 2000)));
  EXPECT_FALSE(GET(s().GetList(a.id, pl.id)).has_value());
  EXPECT_FALSE(GET(s().DeleteList(a.id, pl.id, 2000)));
  auto gp = GET(s().GetPerson(a.id, p.id));
  ASSERT_TRUE(gp.has_value());
  EXPECT_TRUE(gp->lists.empty());
  EXPECT_EQ(gp->last_update_ms, 2000);

  EXPECT_TRUE(GET(s().DeleteList(a.id, dl.id, 2100)));
  auto gd = GET(s().GetDescriptor(a.id, d.id));
  ASSERT_TRUE(gd.has_value());
  EXPECT_EQ(gd->lists, Ids{keep.id});
  EXPECT_EQ(gd->last_update_ms, 2100);
  EXPECT_EQ(GET(s().ListLists(a.id, ListType::Descriptors, PageRequest{1, 10})).count, 1);

  // DeleteLists: owned ids are deleted, unknown ones ignored, all in one call.
  List l1 = MustCreateList(a.id, ListType::Persons);
  List l2 = MustCreateList(a.id, ListType::Descriptors);
  EXPECT_OK(s().DeleteLists(a.id, {}, 3000));
  EXPECT_OK(s().DeleteLists(a.id, {l1.id, core::NewUuid4(), l2.id, l2.id, "not-a-uuid"}, 3000));
  EXPECT_FALSE(GET(s().GetList(a.id, l1.id)).has_value());
  EXPECT_FALSE(GET(s().GetList(a.id, l2.id)).has_value());
  EXPECT_TRUE(GET(s().GetList(a.id, keep.id)).has_value());
  EXPECT_FALSE(GET(s().DeleteList(a.id, core::NewUuid4(), 3000)));
}

// --- tenancy --------------------------------------------------------------------------------

TEST_P(StoreContract, TenancyForPersonsDescriptorsAndLists) {
  Account a = MustCreateAccount("owner@example.com");
  Account b = MustCreateAccount("intruder@example.com");
  Person pa = MustCreatePerson(a.id, "secret", std::string("ext"), 1000);
  Descriptor da = MustCreateDescriptor(a.id, 1000);
  Descriptor da_free = MustCreateDescriptor(a.id, 1000);
  List pla = MustCreateList(a.id, ListType::Persons, "a persons");
  List dla = MustCreateList(a.id, ListType::Descriptors, "a descriptors");
  ASSERT_OK(s().LinkPersonDescriptor(a.id, pa.id, da.id, LinkAction::Attach, 1100));
  ASSERT_OK(s().LinkList(a.id, pla.id, ListType::Persons, LinkAction::Attach, {pa.id}, 1100));
  ASSERT_OK(s().LinkList(a.id, dla.id, ListType::Descriptors, LinkAction::Attach, {da.id}, 1100));
  Person pb = MustCreatePerson(b.id);
  Descriptor db = MustCreateDescriptor(b.id);
  List plb = MustCreateList(b.id, ListType::Persons);
  List dlb = MustCreateList(b.id, ListType::Descriptors);

  // Reads: not found, and not in B's collections.
  EXPECT_FALSE(GET(s().GetPerson(b.id, pa.id)).has_value());
  EXPECT_FALSE(GET(s().GetDescriptor(b.id, da.id)).has_value());
  EXPECT_FALSE(GET(s().GetList(b.id, pla.id)).has_value());
  EXPECT_EQ(IdsOf(GET(s().ListPersons(b.id, {}, PageRequest{1, 100})).items), Ids{pb.id});
  EXPECT_EQ(GET(s().ListPersons(b.id, {std::string("secret"), std::nullopt}, PageRequest{1, 100})).count, 0);
  EXPECT_EQ(GET(s().ListPersons(b.id, {std::nullopt, std::string("ext")}, PageRequest{1, 100})).count, 0);
  EXPECT_EQ(IdsOf(GET(s().ListDescriptors(b.id, PageRequest{1, 100}, true)).items), Ids{db.id});
  EXPECT_EQ(IdsOf(GET(s().ListLists(b.id, ListType::Persons, PageRequest{1, 100})).items), Ids{plb.id});
  EXPECT_EQ(IdsOf(GET(s().ListLists(b.id, ListType::Descriptors, PageRequest{1, 100})).items), Ids{dlb.id});
  EXPECT_ERRC(s().ListPersonsInList(b.id, pla.id, PageRequest{1, 10}), Errc::ListNotFound);
  EXPECT_ERRC(s().ListDescriptorsInList(b.id, dla.id, PageRequest{1, 10}), Errc::ListNotFound);

  // Writes: not found, nothing touched.
  EXPECT_FALSE(GET(s().UpdatePerson(b.id, pa.id, std::string("hijacked"), std::string("x"), 9000)));
  EXPECT_FALSE(GET(s().UpdatePerson(b.id, pa.id, std::nullopt, std::nullopt, 9000)));
  EXPECT_FALSE(GET(s().DeletePerson(b.id, pa.id, 9000)));
  EXPECT_FALSE(GET(s().UpdateListData(b.id, pla.id, "hijacked")));
  EXPECT_FALSE(GET(s().DeleteList(b.id, pla.id, 9000)));
  EXPECT_OK(s().DeleteLists(b.id, {pla.id, dla.id}, 9000));

  // Links across tenants.
  EXPECT_ERRC(s().LinkPersonDescriptor(b.id, pa.id, db.id, LinkAction::Attach, 9000), Errc::PersonNotFound);
  EXPECT_ERRC(s().LinkPersonDescriptor(b.id, pa.id, da.id, LinkAction::Detach, 9000), Errc::PersonNotFound);
  EXPECT_ERRC(s().LinkPersonDescriptor(b.id, pb.id, da_free.id, LinkAction::Attach, 9000),
              Errc::DescriptorNotFoundRef, da_free.id);
  EXPECT_ERRC(s().LinkPersonDescriptor(b.id, pb.id, da.id, LinkAction::Detach, 9000), Errc::DescriptorNotFoundRef,
              da.id);
  EXPECT_ERRC(s().LinkList(b.id, pla.id, ListType::Persons, LinkAction::Attach, {pb.id}, 9000),
              Errc::ListNotFoundRef);
  EXPECT_ERRC(s().LinkList(b.id, pla.id, ListType::Persons, LinkAction::Detach, {pa.id}, 9000),
              Errc::ListNotFoundRef);
  EXPECT_ERRC(s().LinkList(b.id, plb.id, ListType::Persons, LinkAction::Attach, {pa.id}, 9000),
              Errc::ObjectsNotFound, "persons");
  EXPECT_ERRC(s().LinkList(b.id, dlb.id, ListType::Descriptors, LinkAction::Attach, {db.id, da_free.id}, 9000),
              Errc::ObjectsNotFound, "descriptors");
  EXPECT_ERRC(s().LinkList(b.id, dlb.id, ListType::Descriptors, LinkAction::Detach, {da.id}, 9000),
              Errc::ObjectsNotFound, "descriptors");
  EXPECT_EQ(GET(s().GetList(b.id, dlb.id))->count, 0);

  // A's data is exactly as it was.
  auto gp = GET(s().GetPerson(a.id, pa.id));
  ASSERT_TRUE(gp.has_value());
  EXPECT_EQ(gp->user_data, "secret");
  EXPECT_EQ(gp->external_id, std::optional<std::string>("ext"));
  EXPECT_EQ(gp->descriptors, Ids{da.id});
  EXPECT_EQ(gp->lists, Ids{pla.id});
  EXPECT_EQ(gp->last_update_ms, 1100);
  auto gd = GET(s().GetDescriptor(a.id, da.id));
  EXPECT_EQ(gd->person_id, std::optional<std::string>(pa.id));
  EXPECT_EQ(gd->lists, Ids{dla.id});
  EXPECT_EQ(gd->last_update_ms, 1100);
  EXPECT_FALSE(GET(s().GetDescriptor(a.id, da_free.id))->person_id.has_value());
  EXPECT_EQ(GET(s().GetList(a.id, pla.id))->list_data, "a persons");
  EXPECT_EQ(GET(s().GetList(a.id, pla.id))->count, 1);
  EXPECT_EQ(GET(s().GetList(a.id, dla.id))->count, 1);
}

// --- descriptor lifetime (API.md §6) --------------------------------------------------------

TEST_P(StoreContract, CollectorDeletesOnlyExpiredUnlinkedDescriptors) {
  Account a = MustCreateAccount("gc-a@example.com");
  Account b = MustCreateAccount("gc-b@example.com");
  Descriptor free_a = MustCreateDescriptor(a.id, 1000);
  Descriptor free_b = NewDescriptor(b.id, 1000);
  free_b.has_portrait = false;
  ASSERT_OK(s().CreateDescriptors({free_b}));
  Descriptor young = MustCreateDescriptor(a.id, 1050);
  Descriptor with_person = MustCreateDescriptor(a.id, 1000);
  Descriptor in_list = MustCreateDescriptor(a.id, 1000);
  Person p = MustCreatePerson(a.id);
  List l = MustCreateList(a.id, ListType::Descriptors);
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, with_person.id, LinkAction::Attach, 1000));
  ASSERT_OK(s().LinkList(a.id, l.id, ListType::Descriptors, LinkAction::Attach, {in_list.id}, 1000));

  // Exactly ttl old is not older than ttl.
  EXPECT_TRUE(GET(s().CollectUnlinkedDescriptors(1100, 100)).empty());
  auto collected = GET(s().CollectUnlinkedDescriptors(1101, 100));
  EXPECT_EQ(IdsOf(collected), Sorted({free_a.id, free_b.id}));
  for (const auto& c : collected) {
    if (c.id == free_a.id) {
      EXPECT_EQ(c.account_id, a.id);
      EXPECT_TRUE(c.has_portrait);
    } else {
      EXPECT_EQ(c.account_id, b.id);
      EXPECT_FALSE(c.has_portrait);
    }
  }
  EXPECT_FALSE(GET(s().DescriptorExists(free_a.id)));
  EXPECT_FALSE(GET(s().GetDescriptor(b.id, free_b.id)).has_value());
  EXPECT_TRUE(GET(s().DescriptorExists(young.id)));
  EXPECT_TRUE(GET(s().CollectUnlinkedDescriptors(1101, 100)).empty()) << "already collected";

  // Linked descriptors survive any age.
  EXPECT_EQ(IdsOf(GET(s().CollectUnlinkedDescriptors(1'000'000'000, 0))), Ids{young.id});
  EXPECT_TRUE(GET(s().DescriptorExists(with_person.id)));
  EXPECT_TRUE(GET(s().DescriptorExists(in_list.id)));
  EXPECT_EQ(GET(s().GetPerson(a.id, p.id))->descriptors, Ids{with_person.id});

  EXPECT_FALSE(s().CollectUnlinkedDescriptors(1000, -1).ok());
  EXPECT_TRUE(GET(s().CollectUnlinkedDescriptors(std::numeric_limits<int64_t>::min() + 5, 100)).empty());
}

TEST_P(StoreContract, AttachedJustBeforeCollectionSurvives) {
  Account a = MustCreateAccount("gc-attach@example.com");
  Descriptor to_person = MustCreateDescriptor(a.id, 1000);
  Descriptor to_list = MustCreateDescriptor(a.id, 1000);
  Descriptor left = MustCreateDescriptor(a.id, 1000);
  Person p = MustCreatePerson(a.id);
  List l = MustCreateList(a.id, ListType::Descriptors);
  // Long expired, then linked a moment before the collector runs.
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, to_person.id, LinkAction::Attach, 999'999));
  ASSERT_OK(s().LinkList(a.id, l.id, ListType::Descriptors, LinkAction::Attach, {to_list.id}, 999'999));
  EXPECT_EQ(IdsOf(GET(s().CollectUnlinkedDescriptors(1'000'000, 10))), Ids{left.id});
  EXPECT_TRUE(GET(s().DescriptorExists(to_person.id)));
  EXPECT_TRUE(GET(s().DescriptorExists(to_list.id)));
}

TEST_P(StoreContract, EveryKindOfUnlinkRestartsTheClock) {
  Account a = MustCreateAccount("gc-clock@example.com");
  Person detach_p = MustCreatePerson(a.id);
  Person deleted_p = MustCreatePerson(a.id);
  List detach_l = MustCreateList(a.id, ListType::Descriptors);
  List deleted_l = MustCreateList(a.id, ListType::Descriptors);
  List deleted_l2 = MustCreateList(a.id, ListType::Descriptors);
  Descriptor d_detach_p = MustCreateDescriptor(a.id, 1000);
  Descriptor d_deleted_p = MustCreateDescriptor(a.id, 1000);
  Descriptor d_detach_l = MustCreateDescriptor(a.id, 1000);
  Descriptor d_deleted_l = MustCreateDescriptor(a.id, 1000);
  Descriptor d_deleted_l2 = MustCreateDescriptor(a.id, 1000);
  Descriptor never = MustCreateDescriptor(a.id, 1000);
  ASSERT_OK(s().LinkPersonDescriptor(a.id, detach_p.id, d_detach_p.id, LinkAction::Attach, 1000));
  ASSERT_OK(s().LinkPersonDescriptor(a.id, deleted_p.id, d_deleted_p.id, LinkAction::Attach, 1000));
  ASSERT_OK(s().LinkList(a.id, detach_l.id, ListType::Descriptors, LinkAction::Attach, {d_detach_l.id}, 1000));
  ASSERT_OK(s().LinkList(a.id, deleted_l.id, ListType::Descriptors, LinkAction::Attach, {d_deleted_l.id}, 1000));
  ASSERT_OK(s().LinkList(a.id, deleted_l2.id, ListType::Descriptors, LinkAction::Attach, {d_deleted_l2.id}, 1000));

  // Unlinked at 5000 in four ways (creation was at 1000, long expired for ttl 100).
  ASSERT_OK(s().LinkPersonDescriptor(a.id, detach_p.id, d_detach_p.id, LinkAction::Detach, 5000));
  ASSERT_TRUE(GET(s().DeletePerson(a.id, deleted_p.id, 5000)));
  ASSERT_OK(s().LinkList(a.id, detach_l.id, ListType::Descriptors, LinkAction::Detach, {d_detach_l.id}, 5000));
  ASSERT_TRUE(GET(s().DeleteList(a.id, deleted_l.id, 5000)));
  ASSERT_OK(s().DeleteLists(a.id, {deleted_l2.id}, 5000));

  // Only the never-linked one is collected at 5050; the others at 5101.
  EXPECT_EQ(IdsOf(GET(s().CollectUnlinkedDescriptors(5050, 100))), Ids{never.id});
  EXPECT_TRUE(GET(s().CollectUnlinkedDescriptors(5100, 100)).empty());
  EXPECT_EQ(IdsOf(GET(s().CollectUnlinkedDescriptors(5101, 100))),
            Sorted({d_detach_p.id, d_deleted_p.id, d_detach_l.id, d_deleted_l.id, d_deleted_l2.id}));
}

TEST_P(StoreContract, StillLinkedDescriptorIsNotCollectedAfterPartialUnlink) {
  Account a = MustCreateAccount("gc-partial@example.com");
  Person p = MustCreatePerson(a.id);
  List l = MustCreateList(a.id, ListType::Descriptors);
  Descriptor d = MustCreateDescriptor(a.id, 1000);
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d.id, LinkAction::Attach, 1000));
  ASSERT_OK(s().LinkList(a.id, l.id, ListType::Descriptors, LinkAction::Attach, {d.id}, 1000));
  // Leaves the list but keeps its person; then leaves the person but stays in ... nothing.
  ASSERT_OK(s().LinkList(a.id, l.id, ListType::Descriptors, LinkAction::Detach, {d.id}, 2000));
  EXPECT_TRUE(GET(s().CollectUnlinkedDescriptors(1'000'000, 0)).empty());
  ASSERT_OK(s().LinkList(a.id, l.id, ListType::Descriptors, LinkAction::Attach, {d.id}, 3000));
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d.id, LinkAction::Detach, 4000));
  EXPECT_TRUE(GET(s().CollectUnlinkedDescriptors(1'000'000, 0)).empty());
  ASSERT_OK(s().LinkList(a.id, l.id, ListType::Descriptors, LinkAction::Detach, {d.id}, 5000));
  EXPECT_TRUE(GET(s().CollectUnlinkedDescriptors(5100, 100)).empty());
  EXPECT_EQ(IdsOf(GET(s().CollectUnlinkedDescriptors(5101, 100))), Ids{d.id});
}

// Workers keep their descriptors linked at every moment (always by a person or a list, moving
// between them) while the collector runs with ttl 0 in a loop: no linked descriptor may ever
// be collected. The workers also make fresh unlinked descriptors and try to attach them: the
// collector may win that race (DescriptorNotFoundRef), but a successful attach must never be
// followed by the descriptor's disappearance.
TEST_P(StoreContract, ConcurrentLinkingAndCollectionNeverLosesALinkedDescriptor) {
  Account a = MustCreateAccount("gc-race@example.com");
  constexpr int kWorkers = 4;
  constexpr int kRounds = 15;
  constexpr int64_t kFar = int64_t{1} << 50;  // every unlinked descriptor is expired
  std::vector<Person> persons;
  std::vector<List> lists;
  std::vector<Descriptor> kept;
  for (int w = 0; w < kWorkers; ++w) {
    persons.push_back(MustCreatePerson(a.id));
    lists.push_back(MustCreateList(a.id, ListType::Descriptors));
    kept.push_back(MustCreateDescriptor(a.id, 1000));
    ASSERT_OK(s().LinkPersonDescriptor(a.id, persons[w].id, kept[w].id, LinkAction::Attach, 1000));
  }

  std::atomic<bool> done{false};
  std::mutex mu;
  std::vector<std::string> errors;
  std::set<std::string> collected, attached;
  auto fail = [&](const std::string& what) {
    std::lock_guard lock(mu);
    errors.push_back(what);
  };
  auto link = [&](const core::Status& st, const char* what) {
    if (!st) fail(std::string(what) + ": " + Detail(st.error()));
  };

  std::thread collector([&] {
    int runs = 0;
    while (!done.load() || runs < 3) {
      auto got = store_->CollectUnlinkedDescriptors(kFar, 0);
      ++runs;
      if (!got) {
        fail("collect: " + Detail(got.error()));
        continue;
      }
      {
        std::lock_guard lock(mu);
        for (const auto& c : *got) collected.insert(c.id);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // let writers in
    }
  });
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      const std::string& p = persons[w].id;
      const std::string& l = lists[w].id;
      const std::string& d = kept[w].id;
      for (int i = 0; i < kRounds; ++i) {
        const int64_t t = 2000 + i;
        // Person -> person + list -> list -> list + person -> person.
        link(store_->LinkList(a.id, l, ListType::Descriptors, LinkAction::Attach, {d}, t), "attach to list");
        link(store_->LinkPersonDescriptor(a.id, p, d, LinkAction::Detach, t), "detach from person");
        link(store_->LinkPersonDescriptor(a.id, p, d, LinkAction::Attach, t), "attach to person");
        link(store_->LinkList(a.id, l, ListType::Descriptors, LinkAction::Detach, {d}, t), "detach from list");

        Descriptor fresh = NewDescriptor(a.id, 1000, static_cast<float>(i));
        link(store_->CreateDescriptors({fresh}), "create");
        auto st = store_->LinkPersonDescriptor(a.id, p, fresh.id, LinkAction::Attach, t);
        if (st) {
          std::lock_guard lock(mu);
          attached.insert(fresh.id);
        } else if (st.error().code != Errc::DescriptorNotFoundRef) {
          fail("attach fresh: " + Detail(st.error()));
        }
      }
    });
  }
  for (auto& th : workers) th.join();
  done = true;
  collector.join();

  for (const auto& e : errors) ADD_FAILURE() << e;
  for (int w = 0; w < kWorkers; ++w) {
    EXPECT_EQ(collected.count(kept[w].id), 0u) << "a linked descriptor was collected";
    auto gd = GET(s().GetDescriptor(a.id, kept[w].id));
    ASSERT_TRUE(gd.has_value());
    EXPECT_EQ(gd->person_id, std::optional<std::string>(persons[w].id));
  }
  for (const auto& id : attached) {
    EXPECT_EQ(collected.count(id), 0u) << "an attached descriptor was collected";
    EXPECT_TRUE(GET(s().DescriptorExists(id)));
  }
  // Every fresh descriptor was either attached or collected.
  EXPECT_EQ(attached.size() + collected.size(), static_cast<size_t>(kWorkers * kRounds));
  EXPECT_EQ(GET(s().ListDescriptors(a.id, PageRequest{1, 1})).count, kWorkers + static_cast<int64_t>(attached.size()));
}

TEST_P(StoreContract, StorageSurvivesReopen) {
  if (!env_->persistent()) GTEST_SKIP() << "backend does not persist across reopen";
  Account a = MustCreateAccount("durable-storage@example.com");
  Person p = MustCreatePerson(a.id, "u", std::string("e"), 1000);
  Descriptor d = MustCreateDescriptor(a.id, 1000, 7.0f);
  List l = MustCreateList(a.id, ListType::Descriptors, "ld");
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d.id, LinkAction::Attach, 1100));
  ASSERT_OK(s().LinkList(a.id, l.id, ListType::Descriptors, LinkAction::Attach, {d.id}, 1200));
  Reopen();
  auto gd = GET(s().GetDescriptor(a.id, d.id));
  ASSERT_TRUE(gd.has_value());
  EXPECT_EQ(Bits(gd->values), Bits(d.values));
  EXPECT_EQ(gd->person_id, std::optional<std::string>(p.id));
  EXPECT_EQ(gd->lists, Ids{l.id});
  EXPECT_EQ(gd->last_update_ms, 1200);
  EXPECT_EQ(GET(s().GetPerson(a.id, p.id))->descriptors, Ids{d.id});
  EXPECT_EQ(GET(s().GetList(a.id, l.id))->count, 1);
}

}  // namespace store_testing
