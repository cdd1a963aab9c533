// The contract cases for the change feed and the follower's snapshot (store.hpp, ChangeKind):
// the exact rows each write appends, the seq guarantees, pruning, and the follower contract
// (snapshot at S + ChangesSince(S) applied in order == a fresh snapshot), checked on fixed
// cases, on a seeded random sequence of writes and under concurrent writers.
// Backend-independent: only store::Store methods are used.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "core/uuid.hpp"
#include "store_contract.hpp"

namespace store_testing {

using store::Account;
using store::Change;
using store::ChangeKind;
using store::Descriptor;
using store::LinkAction;
using store::List;
using store::ListType;
using store::Person;
using store::Token;

namespace {

using Ids = std::vector<std::string>;

// A change row without seq and values, for comparing with an expectation.
struct Row {
  ChangeKind kind;
  std::string account_id;
  std::string descriptor_id;
  std::string person_id;
  std::string list_id;
  bool operator==(const Row&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Row& r) {
  return os << "{" << store::ChangeKindName(r.kind) << " a=" << r.account_id.substr(0, 8)
            << " d=" << r.descriptor_id.substr(0, 8) << " p=" << r.person_id.substr(0, 8)
            << " l=" << r.list_id.substr(0, 8) << "}";
}

Row Added(const std::string& a, const std::string& d) { return {ChangeKind::DescriptorAdded, a, d, "", ""}; }
Row Removed(const std::string& a, const std::string& d) { return {ChangeKind::DescriptorRemoved, a, d, "", ""}; }
Row PersonSet(const std::string& a, const std::string& d, const std::string& p) {
  return {ChangeKind::DescriptorPersonSet, a, d, p, ""};
}
Row DescriptorIn(const std::string& a, const std::string& l, const std::string& d) {
  return {ChangeKind::ListMemberAdded, a, d, "", l};
}
Row DescriptorOut(const std::string& a, const std::string& l, const std::string& d) {
  return {ChangeKind::ListMemberRemoved, a, d, "", l};
}
Row PersonIn(const std::string& a, const std::string& l, const std::string& p) {
  return {ChangeKind::ListMemberAdded, a, "", p, l};
}
Row PersonOut(const std::string& a, const std::string& l, const std::string& p) {
  return {ChangeKind::ListMemberRemoved, a, "", p, l};
}
Row PersonGone(const std::string& a, const std::string& p) { return {ChangeKind::PersonRemoved, a, "", p, ""}; }
Row ListGone(const std::string& a, const std::string& l) { return {ChangeKind::ListRemoved, a, "", "", l}; }

std::vector<uint32_t> Bits(const std::vector<float>& v) {
  std::vector<uint32_t> out;
  for (float f : v) out.push_back(std::bit_cast<uint32_t>(f));
  return out;
}

// What a follower keeps: the state store.hpp's follower contract speaks of.
struct FollowerState {
  struct Desc {
    std::string account_id;
    std::string person_id;  // "" = none
    Ids lists;              // descriptors lists, link order
    uint32_t version = 0;
    std::vector<uint32_t> bits;  // values, bit exact
    bool operator==(const Desc&) const = default;
  };
  std::map<std::string, Desc> descriptors;
  // (account_id, person_id) -> persons lists, link order; no empty entries.
  std::map<std::pair<std::string, std::string>, Ids> person_lists;
  bool operator==(const FollowerState&) const = default;

  std::string Describe() const {
    std::ostringstream os;
    for (const auto& [id, d] : descriptors) {
      os << "  d " << id.substr(0, 8) << " p=" << d.person_id.substr(0, 8) << " lists=";
      for (const auto& l : d.lists) os << l.substr(0, 8) << ",";
      os << "\n";
    }
    for (const auto& [key, lists] : person_lists) {
      os << "  p " << key.second.substr(0, 8) << " lists=";
      for (const auto& l : lists) os << l.substr(0, 8) << ",";
      os << "\n";
    }
    return os.str();
  }

  // Applies one row as the contract says, checking the ordering promises on the way (a
  // row names something that exists; removals come after the links they imply are gone).
  void Apply(const Change& c) {
    switch (c.kind) {
      case ChangeKind::DescriptorAdded: {
        ASSERT_EQ(descriptors.count(c.descriptor_id), 0u) << "added twice: " << c.seq;
        Desc d;
        d.account_id = c.account_id;
        if (c.values) {
          d.version = c.version;
          d.bits = Bits(*c.values);
        } else {
          d.version = UINT32_MAX;  // gone since: a DescriptorRemoved must follow
        }
        descriptors[c.descriptor_id] = d;
        break;
      }
      case ChangeKind::DescriptorRemoved: {
        auto it = descriptors.find(c.descriptor_id);
        ASSERT_TRUE(it != descriptors.end()) << "removed unknown: " << c.seq;
        EXPECT_EQ(it->second.person_id, "") << "collected with a person: " << c.seq;
        EXPECT_TRUE(it->second.lists.empty()) << "collected with lists: " << c.seq;
        descriptors.erase(it);
        break;
      }
      case ChangeKind::DescriptorPersonSet: {
        auto it = descriptors.find(c.descriptor_id);
        ASSERT_TRUE(it != descriptors.end()) << "person of unknown descriptor: " << c.seq;
        EXPECT_EQ(it->second.account_id, c.account_id);
        EXPECT_NE(it->second.person_id, c.person_id) << "not a change: " << c.seq;
        it->second.person_id = c.person_id;
        break;
      }
      case ChangeKind::ListMemberAdded:
      case ChangeKind::ListMemberRemoved: {
        ASSERT_FALSE(c.list_id.empty());
        ASSERT_NE(c.descriptor_id.empty(), c.person_id.empty()) << "exactly one member id: " << c.seq;
        Ids* lists = nullptr;
        if (!c.descriptor_id.empty()) {
          auto it = descriptors.find(c.descriptor_id);
          ASSERT_TRUE(it != descriptors.end()) << "list member unknown: " << c.seq;
          lists = &it->second.lists;
        } else {
          lists = &person_lists[{c.account_id, c.person_id}];
        }
        auto pos = std::find(lists->begin(), lists->end(), c.list_id);
        if (c.kind == ChangeKind::ListMemberAdded) {
          EXPECT_TRUE(pos == lists->end()) << "already a member: " << c.seq;
          lists->push_back(c.list_id);
        } else {
          ASSERT_TRUE(pos != lists->end()) << "not a member: " << c.seq;
          lists->erase(pos);
        }
        if (lists->empty() && !c.person_id.empty()) person_lists.erase({c.account_id, c.person_id});
        break;
      }
      case ChangeKind::PersonRemoved:
        EXPECT_EQ(person_lists.count({c.account_id, c.person_id}), 0u) << "person still in lists: " << c.seq;
        for (const auto& [id, d] : descriptors) EXPECT_NE(d.person_id, c.person_id) << "still has " << id;
        break;
      case ChangeKind::ListRemoved:
        for (const auto& [id, d] : descriptors)
          EXPECT_EQ(std::count(d.lists.begin(), d.lists.end(), c.list_id), 0) << "still holds " << id;
        for (const auto& [key, lists] : person_lists)
          EXPECT_EQ(std::count(lists.begin(), lists.end(), c.list_id), 0) << "still holds " << key.second;
        break;
    }
  }
};

// Loads a follower from Snapshot; returns the snapshot's seq.
int64_t LoadSnapshot(store::Store& s, FollowerState& state) {
  state = FollowerState();
  auto seq = s.Snapshot(
      [&](const Descriptor& d) {
        FollowerState::Desc x;
        x.account_id = d.account_id;
        x.person_id = d.person_id.value_or("");
        x.lists = d.lists;
        x.version = d.version;
        x.bits = Bits(d.values);
        EXPECT_TRUE(state.descriptors.emplace(d.id, std::move(x)).second) << "twice: " << d.id;
        return true;
      },
      [&](const std::string& account_id, const std::string& list_id, const std::string& person_id) {
        state.person_lists[{account_id, person_id}].push_back(list_id);
        return true;
      });
  EXPECT_TRUE(seq.ok()) << Detail(seq.error());
  return seq.ok() ? *seq : -1;
}

// Applies ChangesSince from *seq on, `batch` rows per call, until the feed is drained;
// checks that seqs are consecutive.
void CatchUp(store::Store& s, FollowerState& state, int64_t* seq, int batch = 1000) {
  for (;;) {
    auto rows = s.ChangesSince(*seq, batch);
    ASSERT_TRUE(rows.ok()) << Detail(rows.error());
    for (const auto& c : *rows) {
      ASSERT_EQ(c.seq, *seq + 1) << "gap or disorder in the feed";
      state.Apply(c);
      *seq = c.seq;
    }
    if (static_cast<int>(rows->size()) < batch) return;
  }
}

}  // namespace

// Rows appended after `after` (without seq), and the check that their seqs are consecutive.
static std::vector<Row> RowsSince(store::Store& s, int64_t after) {
  std::vector<Row> out;
  auto rows = s.ChangesSince(after, 100000);
  EXPECT_TRUE(rows.ok()) << Detail(rows.error());
  if (!rows.ok()) return out;
  int64_t expect = after + 1;
  for (const auto& c : *rows) {
    EXPECT_EQ(c.seq, expect++);
    out.push_back({c.kind, c.account_id, c.descriptor_id, c.person_id, c.list_id});
  }
  return out;
}

// Expects exactly `rows` to have been appended since *mark, then moves *mark to the end.
#define EXPECT_FEED(mark, ...)                                            \
  do {                                                                    \
    EXPECT_EQ(RowsSince(s(), mark), (std::vector<Row>{__VA_ARGS__}));     \
    mark = GET(s().LastChangeSeq());                                      \
  } while (0)

TEST_P(StoreContract, ChangeFeedStartsEmpty) {
  EXPECT_EQ(GET(s().LastChangeSeq()), 0);
  EXPECT_EQ(GET(s().PrunedChangeSeq()), 0);
  EXPECT_TRUE(GET(s().ChangesSince(0, 10)).empty());
  EXPECT_TRUE(GET(s().ChangesSince(1000, 10)).empty());
  EXPECT_EQ(s().ChangesSince(0, 0).error().code, core::Errc::Internal);
  FollowerState st;
  EXPECT_EQ(LoadSnapshot(s(), st), 0);
  EXPECT_TRUE(st.descriptors.empty());
}

TEST_P(StoreContract, CreateDescriptorsFeedsEachWithItsValues) {
  Account a = MustCreateAccount("feed-create@example.com");
  Descriptor d1 = NewDescriptor(a.id, 3000, 1.5f);
  Descriptor d2 = NewDescriptor(a.id, 2000, -0.5f);
  d2.version = 57;
  ASSERT_OK(s().CreateDescriptors({d1, d2}));
  EXPECT_EQ(RowsSince(s(), 0), (std::vector<Row>{Added(a.id, d1.id), Added(a.id, d2.id)}));
  auto rows = GET(s().ChangesSince(0, 10));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].seq, 1);
  EXPECT_EQ(rows[1].seq, 2);
  EXPECT_EQ(rows[0].kind, ChangeKind::DescriptorAdded);
  EXPECT_EQ(rows[0].descriptor_id, d1.id);
  EXPECT_EQ(rows[1].descriptor_id, d2.id);
  EXPECT_EQ(rows[0].account_id, a.id);
  EXPECT_EQ(rows[0].person_id, "");
  EXPECT_EQ(rows[0].list_id, "");
  EXPECT_EQ(rows[0].version, 59u);
  EXPECT_EQ(rows[1].version, 57u);
  ASSERT_TRUE(rows[0].values && rows[1].values);
  EXPECT_EQ(Bits(*rows[0].values), Bits(d1.values));
  EXPECT_EQ(Bits(*rows[1].values), Bits(d2.values));
  EXPECT_EQ(GET(s().LastChangeSeq()), 2);

  // Nothing for an empty call or a failed (all-or-nothing) one.
  ASSERT_OK(s().CreateDescriptors({}));
  Descriptor d3 = NewDescriptor(a.id);
  EXPECT_FALSE(s().CreateDescriptors({d3, d1}).ok());  // d1's id exists: nothing is written
  EXPECT_EQ(GET(s().LastChangeSeq()), 2);
  // A failed transaction does not burn a seq: the next one is 3.
  ASSERT_OK(s().CreateDescriptors({d3}));
  EXPECT_EQ(GET(s().ChangesSince(2, 10)).at(0).seq, 3);
}

TEST_P(StoreContract, LinkPersonDescriptorFeedsOnlyRealChanges) {
  Account a = MustCreateAccount("feed-link@example.com");
  Person p = MustCreatePerson(a.id);
  Person q = MustCreatePerson(a.id);
  Descriptor d = MustCreateDescriptor(a.id);
  int64_t mark = GET(s().LastChangeSeq());

  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d.id, LinkAction::Attach, 4000));
  EXPECT_FEED(mark, PersonSet(a.id, d.id, p.id));
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d.id, LinkAction::Attach, 4001));  // no-op
  EXPECT_FALSE(s().LinkPersonDescriptor(a.id, q.id, d.id, LinkAction::Attach, 4002).ok());  // taken
  ASSERT_OK(s().LinkPersonDescriptor(a.id, q.id, d.id, LinkAction::Detach, 4003));  // not q's: no-op
  EXPECT_FALSE(s().LinkPersonDescriptor(a.id, core::NewUuid4(), d.id, LinkAction::Attach, 4004).ok());
  EXPECT_FALSE(s().LinkPersonDescriptor(a.id, p.id, core::NewUuid4(), LinkAction::Detach, 4005).ok());
  EXPECT_FEED(mark);
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d.id, LinkAction::Detach, 4006));
  EXPECT_FEED(mark, PersonSet(a.id, d.id, ""));
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d.id, LinkAction::Detach, 4007));  // no-op
  EXPECT_FEED(mark);
  ASSERT_OK(s().LinkPersonDescriptor(a.id, q.id, d.id, LinkAction::Attach, 4008));
  EXPECT_FEED(mark, PersonSet(a.id, d.id, q.id));
}

TEST_P(StoreContract, LinkListFeedsOnlyRealChanges) {
  Account a = MustCreateAccount("feed-linker@example.com");
  List dl = MustCreateList(a.id, ListType::Descriptors);
  List pl = MustCreateList(a.id, ListType::Persons);
  Descriptor d1 = MustCreateDescriptor(a.id);
  Descriptor d2 = MustCreateDescriptor(a.id);
  Descriptor d3 = MustCreateDescriptor(a.id);
  Person p1 = MustCreatePerson(a.id);
  Person p2 = MustCreatePerson(a.id);
  int64_t mark = GET(s().LastChangeSeq());

  ASSERT_OK(s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Attach, {d1.id}, 4000));
  EXPECT_FEED(mark, DescriptorIn(a.id, dl.id, d1.id));
  // d1 already in; d3 twice: one row each for d3 and d2, in the given order.
  ASSERT_OK(s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Attach, {d3.id, d1.id, d3.id, d2.id}, 4001));
  EXPECT_FEED(mark, DescriptorIn(a.id, dl.id, d3.id), DescriptorIn(a.id, dl.id, d2.id));
  ASSERT_OK(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Attach, {p2.id, p1.id}, 4002));
  EXPECT_FEED(mark, PersonIn(a.id, pl.id, p2.id), PersonIn(a.id, pl.id, p1.id));

  // Failures and empty calls append nothing.
  EXPECT_FALSE(s().LinkList(a.id, dl.id, ListType::Persons, LinkAction::Attach, {p1.id}, 4003).ok());
  EXPECT_FALSE(s().LinkList(a.id, core::NewUuid4(), ListType::Persons, LinkAction::Attach, {p1.id}, 4003).ok());
  EXPECT_FALSE(
      s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Detach, {d1.id, core::NewUuid4()}, 4003).ok());
  ASSERT_OK(s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Attach, {}, 4003));
  EXPECT_FEED(mark);

  // Detach: members only.
  Descriptor outsider = MustCreateDescriptor(a.id);
  mark = GET(s().LastChangeSeq());
  ASSERT_OK(
      s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Detach, {outsider.id, d2.id, d2.id}, 4004));
  EXPECT_FEED(mark, DescriptorOut(a.id, dl.id, d2.id));
  ASSERT_OK(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Detach, {p1.id}, 4005));
  EXPECT_FEED(mark, PersonOut(a.id, pl.id, p1.id));
}

TEST_P(StoreContract, DeletePersonFeedsItsCascade) {
  Account a = MustCreateAccount("feed-del-person@example.com");
  Person p = MustCreatePerson(a.id);
  Person other = MustCreatePerson(a.id);
  Descriptor d1 = MustCreateDescriptor(a.id);
  Descriptor d2 = MustCreateDescriptor(a.id);
  Descriptor kept = MustCreateDescriptor(a.id);
  List l1 = MustCreateList(a.id, ListType::Persons);
  List l2 = MustCreateList(a.id, ListType::Persons);
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d2.id, LinkAction::Attach, 4000));
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d1.id, LinkAction::Attach, 4001));
  ASSERT_OK(s().LinkPersonDescriptor(a.id, other.id, kept.id, LinkAction::Attach, 4001));
  ASSERT_OK(s().LinkList(a.id, l2.id, ListType::Persons, LinkAction::Attach, {p.id, other.id}, 4002));
  ASSERT_OK(s().LinkList(a.id, l1.id, ListType::Persons, LinkAction::Attach, {p.id}, 4003));
  int64_t mark = GET(s().LastChangeSeq());

  ASSERT_TRUE(GET(s().DeletePerson(a.id, p.id, 5000)));
  EXPECT_FEED(mark, PersonSet(a.id, d2.id, ""), PersonSet(a.id, d1.id, ""), PersonOut(a.id, l2.id, p.id),
              PersonOut(a.id, l1.id, p.id), PersonGone(a.id, p.id));
  EXPECT_FALSE(GET(s().DeletePerson(a.id, p.id, 5001)));
  Account b = MustCreateAccount("feed-del-person-b@example.com");
  mark = GET(s().LastChangeSeq());
  EXPECT_FALSE(GET(s().DeletePerson(b.id, other.id, 5002)));  // another tenant's
  EXPECT_FEED(mark);
  // A person without links: one row.
  Person lonely = MustCreatePerson(a.id);
  ASSERT_TRUE(GET(s().DeletePerson(a.id, lonely.id, 5003)));
  EXPECT_FEED(mark, PersonGone(a.id, lonely.id));
}

TEST_P(StoreContract, DeleteListsFeedMembersThenTheList) {
  Account a = MustCreateAccount("feed-del-list@example.com");
  Account b = MustCreateAccount("feed-del-list-b@example.com");
  List dl = MustCreateList(a.id, ListType::Descriptors);
  List pl = MustCreateList(a.id, ListType::Persons);
  List empty = MustCreateList(a.id, ListType::Descriptors);
  List foreign = MustCreateList(b.id, ListType::Persons);
  Descriptor d1 = MustCreateDescriptor(a.id);
  Descriptor d2 = MustCreateDescriptor(a.id);
  Person p = MustCreatePerson(a.id);
  ASSERT_OK(s().LinkList(a.id, dl.id, ListType::Descriptors, LinkAction::Attach, {d2.id, d1.id}, 4000));
  ASSERT_OK(s().LinkList(a.id, pl.id, ListType::Persons, LinkAction::Attach, {p.id}, 4000));
  int64_t mark = GET(s().LastChangeSeq());

  ASSERT_TRUE(GET(s().DeleteList(a.id, dl.id, 5000)));
  EXPECT_FEED(mark, DescriptorOut(a.id, dl.id, d2.id), DescriptorOut(a.id, dl.id, d1.id), ListGone(a.id, dl.id));
  EXPECT_FALSE(GET(s().DeleteList(a.id, dl.id, 5001)));
  EXPECT_FALSE(GET(s().DeleteList(a.id, foreign.id, 5001)));
  EXPECT_FEED(mark);

  ASSERT_OK(s().DeleteLists(a.id, {core::NewUuid4(), empty.id, foreign.id, pl.id, pl.id}, 5002));
  EXPECT_FEED(mark, ListGone(a.id, empty.id), PersonOut(a.id, pl.id, p.id), ListGone(a.id, pl.id));
  ASSERT_OK(s().DeleteLists(a.id, {}, 5003));
  EXPECT_FEED(mark);
}

TEST_P(StoreContract, CollectorFeedsDescriptorRemoved) {
  Account a = MustCreateAccount("feed-gc@example.com");
  Descriptor old1 = MustCreateDescriptor(a.id, 1000);
  MustCreateDescriptor(a.id, 1000);
  Descriptor young = MustCreateDescriptor(a.id, 5000);
  int64_t mark = GET(s().LastChangeSeq());
  auto collected = GET(s().CollectUnlinkedDescriptors(2000, 500));
  ASSERT_EQ(collected.size(), 2u);
  std::vector<Row> expected;
  for (const auto& c : collected) expected.push_back(Removed(a.id, c.id));  // in the returned order
  EXPECT_EQ(RowsSince(s(), mark), expected);
  mark = GET(s().LastChangeSeq());
  EXPECT_TRUE(GET(s().CollectUnlinkedDescriptors(2000, 500)).empty());
  EXPECT_FEED(mark);

  // A DescriptorAdded read after its descriptor was collected carries no values.
  auto rows = GET(s().ChangesSince(0, 10));
  ASSERT_GE(rows.size(), 3u);
  EXPECT_EQ(rows[0].descriptor_id, old1.id);
  EXPECT_FALSE(rows[0].values.has_value());
  EXPECT_FALSE(rows[1].values.has_value());
  EXPECT_EQ(rows[2].descriptor_id, young.id);
  EXPECT_TRUE(rows[2].values.has_value());
}

TEST_P(StoreContract, WritesMatchingDoesNotSeeFeedNothing) {
  Token first;
  Account a = MustCreateAccount("feed-quiet@example.com", &first);
  Token t = MustCreateToken(a.id);
  ASSERT_OK(s().UpdateTokenData(a.id, t.id, "x"));
  ASSERT_OK(s().DeleteToken(a.id, t.id));
  ASSERT_OK(s().SetAccountSuspended("feed-quiet@example.com", true));
  Person p = MustCreatePerson(a.id, "u");
  ASSERT_TRUE(GET(s().UpdatePerson(a.id, p.id, std::string("v"), std::string("ext"), 4000)));
  List l = MustCreateList(a.id, ListType::Persons, "data");
  ASSERT_TRUE(GET(s().UpdateListData(a.id, l.id, "other")));
  EXPECT_EQ(GET(s().LastChangeSeq()), 0);
}

TEST_P(StoreContract, ChangesSinceHonoursLimitAndPosition) {
  Account a = MustCreateAccount("feed-limit@example.com");
  std::vector<Descriptor> ds;
  for (int i = 0; i < 7; ++i) ds.push_back(NewDescriptor(a.id, 3000 + i, static_cast<float>(i + 1)));
  ASSERT_OK(s().CreateDescriptors(ds));
  auto first = GET(s().ChangesSince(0, 3));
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first.back().seq, 3);
  auto rest = GET(s().ChangesSince(3, 100));
  ASSERT_EQ(rest.size(), 4u);
  EXPECT_EQ(rest.front().seq, 4);
  EXPECT_EQ(rest.back().descriptor_id, ds.back().id);
  EXPECT_TRUE(GET(s().ChangesSince(7, 100)).empty());
  EXPECT_EQ(GET(s().ChangesSince(-5, 1)).at(0).seq, 1);
}

TEST_P(StoreContract, PruningNeverReusesSeqsAndRefusesPrunedPositions) {
  Account a = MustCreateAccount("feed-prune@example.com");
  for (int i = 0; i < 5; ++i) MustCreateDescriptor(a.id, 3000 + i);
  ASSERT_OK(s().PruneChanges(3));
  EXPECT_EQ(GET(s().PrunedChangeSeq()), 3);
  EXPECT_EQ(GET(s().LastChangeSeq()), 5);
  auto refused = s().ChangesSince(2, 10);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::Errc::Internal);
  EXPECT_NE(refused.error().log_detail.find("pruned"), std::string::npos) << refused.error().log_detail;
  auto rows = GET(s().ChangesSince(3, 10));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].seq, 4);

  // Pruning backwards does nothing; pruning past the end is clamped to the last seq.
  ASSERT_OK(s().PruneChanges(1));
  EXPECT_EQ(GET(s().PrunedChangeSeq()), 3);
  ASSERT_OK(s().PruneChanges(1000));
  EXPECT_EQ(GET(s().PrunedChangeSeq()), 5);
  EXPECT_TRUE(GET(s().ChangesSince(5, 10)).empty());
  EXPECT_EQ(GET(s().LastChangeSeq()), 5);
  // The emptied table does not restart numbering.
  Descriptor d = MustCreateDescriptor(a.id, 4000);
  rows = GET(s().ChangesSince(5, 10));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].seq, 6);
  EXPECT_EQ(rows[0].descriptor_id, d.id);
  FollowerState st;
  EXPECT_EQ(LoadSnapshot(s(), st), 6);

  if (!env_->persistent()) return;
  ASSERT_OK(s().PruneChanges(6));
  Reopen();
  EXPECT_EQ(GET(s().LastChangeSeq()), 6);
  EXPECT_EQ(GET(s().PrunedChangeSeq()), 6);
  MustCreateDescriptor(a.id, 5000);
  EXPECT_EQ(GET(s().ChangesSince(6, 10)).at(0).seq, 7);
}

TEST_P(StoreContract, SnapshotHoldsEverythingAndItsSeq) {
  Account a = MustCreateAccount("feed-snap-a@example.com");
  Account b = MustCreateAccount("feed-snap-b@example.com");
  Person p = MustCreatePerson(a.id);
  Person q = MustCreatePerson(b.id);
  Descriptor d1 = MustCreateDescriptor(a.id, 3000, 1.0f);
  Descriptor d2 = MustCreateDescriptor(b.id, 3001, 2.0f);
  List dl1 = MustCreateList(a.id, ListType::Descriptors);
  List dl2 = MustCreateList(a.id, ListType::Descriptors);
  List pl1 = MustCreateList(a.id, ListType::Persons);
  List pl2 = MustCreateList(a.id, ListType::Persons);
  List plb = MustCreateList(b.id, ListType::Persons);
  ASSERT_OK(s().LinkPersonDescriptor(a.id, p.id, d1.id, LinkAction::Attach, 4000));
  ASSERT_OK(s().LinkList(a.id, dl2.id, ListType::Descriptors, LinkAction::Attach, {d1.id}, 4000));
  ASSERT_OK(s().LinkList(a.id, dl1.id, ListType::Descriptors, LinkAction::Attach, {d1.id}, 4000));
  ASSERT_OK(s().LinkList(a.id, pl2.id, ListType::Persons, LinkAction::Attach, {p.id}, 4000));
  ASSERT_OK(s().LinkList(a.id, pl1.id, ListType::Persons, LinkAction::Attach, {p.id}, 4000));
  ASSERT_OK(s().LinkList(b.id, plb.id, ListType::Persons, LinkAction::Attach, {q.id}, 4000));

  FollowerState st;
  EXPECT_EQ(LoadSnapshot(s(), st), GET(s().LastChangeSeq()));
  FollowerState expected;
  expected.descriptors[d1.id] = {a.id, p.id, {dl2.id, dl1.id}, 59, Bits(d1.values)};
  expected.descriptors[d2.id] = {b.id, "", {}, 59, Bits(d2.values)};
  expected.person_lists[{a.id, p.id}] = {pl2.id, pl1.id};
  expected.person_lists[{b.id, q.id}] = {plb.id};
  EXPECT_EQ(st, expected) << st.Describe();

  // The feed from 0 builds the same state as the snapshot.
  FollowerState fed;
  int64_t seq = 0;
  CatchUp(s(), fed, &seq, 2);
  EXPECT_EQ(fed, st) << fed.Describe();

  // Stopping early: a callback returning false ends the load.
  int seen = 0;
  auto stopped = s().Snapshot([&](const Descriptor&) { return ++seen < 1; },
                              [&](const std::string&, const std::string&, const std::string&) {
                                ADD_FAILURE() << "memberships after a stop";
                                return true;
                              });
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(seen, 1);
}

// The snapshot is one read transaction: a write committed while it streams (here through a
// second Store on the same database, like another process or node) is neither in the data
// nor in the returned seq, and comes to the follower through the feed.
TEST_P(StoreContract, SnapshotIsOneConsistentReadTransaction) {
  if (!env_->persistent()) GTEST_SKIP() << "needs a second Store on the same database";
  Account a = MustCreateAccount("feed-snap-tx@example.com");
  Descriptor d1 = MustCreateDescriptor(a.id, 3000, 1.0f);
  MustCreateDescriptor(a.id, 3001, 2.0f);
  Person p = MustCreatePerson(a.id);
  List pl = MustCreateList(a.id, ListType::Persons);
  auto other = env_->Open();
  ASSERT_TRUE(other.ok()) << Detail(other.error());
  store::Store& writer = **other;
  const int64_t before = GET(s().LastChangeSeq());

  FollowerState st;
  bool wrote = false;
  Descriptor late = NewDescriptor(a.id, 1000, 3.0f);  // would sort first if it were seen
  auto seq = s().Snapshot(
      [&](const Descriptor& d) {
        if (!wrote) {
          wrote = true;
          EXPECT_OK(writer.CreateDescriptors({late}));
          EXPECT_OK(writer.LinkPersonDescriptor(a.id, p.id, d1.id, LinkAction::Attach, 4000));
          EXPECT_OK(writer.LinkList(a.id, pl.id, ListType::Persons, LinkAction::Attach, {p.id}, 4000));
        }
        st.descriptors[d.id] = {d.account_id, d.person_id.value_or(""), d.lists, d.version, Bits(d.values)};
        return true;
      },
      [&](const std::string& account_id, const std::string& list_id, const std::string& person_id) {
        st.person_lists[{account_id, person_id}].push_back(list_id);
        return true;
      });
  ASSERT_TRUE(seq.ok()) << Detail(seq.error());
  EXPECT_EQ(*seq, before);
  EXPECT_EQ(st.descriptors.size(), 2u);
  EXPECT_EQ(st.descriptors.count(late.id), 0u);
  EXPECT_EQ(st.descriptors[d1.id].person_id, "");
  EXPECT_TRUE(st.person_lists.empty());
  EXPECT_EQ(GET(s().LastChangeSeq()), before + 3);

  int64_t at = *seq;
  CatchUp(s(), st, &at);
  FollowerState fresh;
  EXPECT_EQ(LoadSnapshot(s(), fresh), before + 3);
  EXPECT_EQ(st, fresh) << st.Describe();
}

// A seeded random sequence of every kind of write, two tenants: a follower loaded from a
// snapshot taken part-way and fed from there is, after every step, equal to a fresh snapshot.
TEST_P(StoreContract, FollowerOfRandomWritesMatchesAFreshSnapshot) {
  std::mt19937 rng(20240607);
  auto pick = [&](auto& v) -> decltype(v[0])& { return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)]; };
  auto chance = [&](int percent) { return std::uniform_int_distribution<int>(0, 99)(rng) < percent; };
  Account accounts[2] = {MustCreateAccount("feed-rand-a@example.com"), MustCreateAccount("feed-rand-b@example.com")};
  struct Pool {
    Ids descriptors, persons, dlists, plists;
  } pools[2];
  int64_t now = 10'000;

  FollowerState follower;
  int64_t seq = -1;
  constexpr int kSteps = 600;
  for (int step = 0; step < kSteps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    if (step == 40) seq = LoadSnapshot(s(), follower);  // the follower starts late
    now += std::uniform_int_distribution<int>(0, 30)(rng);
    const int ai = chance(70) ? 0 : 1;
    const std::string& acc = accounts[ai].id;
    Pool& pool = pools[ai];
    // Ids from the other tenant now and then: they must behave as unknown.
    Pool& other = pools[1 - ai];
    const bool other_ready = !other.persons.empty() && !other.descriptors.empty() && !other.dlists.empty();
    Pool& any = chance(5) && other_ready ? other : pool;
    const int op = std::uniform_int_distribution<int>(0, 15)(rng);
    if (op <= 1 || pool.descriptors.size() < 3) {
      std::vector<Descriptor> ds;
      const int n = std::uniform_int_distribution<int>(1, 3)(rng);
      for (int i = 0; i < n; ++i) ds.push_back(NewDescriptor(acc, now, static_cast<float>(step % 97 + i + 1)));
      ASSERT_OK(s().CreateDescriptors(ds));
      for (const auto& d : ds) pool.descriptors.push_back(d.id);
    } else if (op <= 3 || pool.persons.size() < 2) {
      pool.persons.push_back(MustCreatePerson(acc, "", std::nullopt, now).id);
    } else if (op == 4 || pool.dlists.empty() || pool.plists.empty()) {
      const bool persons = chance(50);
      (persons ? pool.plists : pool.dlists).push_back(
          MustCreateList(acc, persons ? ListType::Persons : ListType::Descriptors, "", now).id);
    } else if (op <= 7) {
      // Attach/detach, including no-ops and errors (taken, unknown, foreign).
      (void)s().LinkPersonDescriptor(acc, pick(any.persons), pick(any.descriptors),
                                     chance(60) ? LinkAction::Attach : LinkAction::Detach, now);
    } else if (op <= 11) {
      const bool persons = chance(50);
      Ids ids;
      const int n = std::uniform_int_distribution<int>(0, 4)(rng);
      for (int i = 0; i < n; ++i) ids.push_back(persons ? pick(any.persons) : pick(any.descriptors));
      const std::string& list = persons ? pick(pool.plists) : pick(pool.dlists);
      // Sometimes the wrong member type (WrongListType: nothing changes).
      const ListType type = chance(5) ? (persons ? ListType::Descriptors : ListType::Persons)
                                      : (persons ? ListType::Persons : ListType::Descriptors);
      (void)s().LinkList(acc, list, type, chance(60) ? LinkAction::Attach : LinkAction::Detach, ids, now);
    } else if (op == 12) {
      // Deleted ids mostly leave the pool; the rest keep being tried (unknown ids).
      auto& victim = pick(any.persons);
      (void)GET(s().DeletePerson(acc, victim, now));
      if (chance(80)) std::swap(victim, any.persons.back()), any.persons.pop_back();
    } else if (op == 13) {
      auto forget = [&](Ids& lists, const std::string& id) {
        if (chance(80)) lists.erase(std::find(lists.begin(), lists.end(), id));
      };
      if (chance(50)) {
        Ids& lists = chance(50) ? pool.plists : pool.dlists;
        const std::string id = pick(lists);
        (void)GET(s().DeleteList(acc, id, now));
        forget(lists, id);
      } else {
        const std::string p = pick(pool.plists), d = pick(pool.dlists), foreign = pick(any.dlists);
        ASSERT_OK(s().DeleteLists(acc, {p, d, foreign}, now));
        forget(pool.plists, p);
        forget(pool.dlists, d);
      }
    } else if (op == 14) {
      for (const auto& c : GET(s().CollectUnlinkedDescriptors(now, std::uniform_int_distribution<int>(0, 2000)(rng)))) {
        Ids& ds = pools[c.account_id == accounts[0].id ? 0 : 1].descriptors;
        if (chance(80)) ds.erase(std::find(ds.begin(), ds.end(), c.id));
      }
    } else {
      (void)GET(s().UpdatePerson(acc, pick(pool.persons), std::string("u") + std::to_string(step), std::nullopt, now));
    }
    if (seq >= 0 && (step % 25 == 0 || step == kSteps - 1)) {
      const int batch = std::uniform_int_distribution<int>(1, 50)(rng);
      CatchUp(s(), follower, &seq, batch);
      if (HasFatalFailure()) return;
      FollowerState fresh;
      EXPECT_EQ(LoadSnapshot(s(), fresh), seq);
      ASSERT_EQ(follower, fresh) << "follower:\n" << follower.Describe() << "store:\n" << fresh.Describe();
    }
  }
  // The run exercised every kind of row.
  std::map<ChangeKind, int> kinds;
  for (const auto& c : GET(s().ChangesSince(0, 1'000'000))) ++kinds[c.kind];
  for (ChangeKind k : {ChangeKind::DescriptorAdded, ChangeKind::DescriptorRemoved, ChangeKind::DescriptorPersonSet,
                       ChangeKind::ListMemberAdded, ChangeKind::ListMemberRemoved, ChangeKind::PersonRemoved,
                       ChangeKind::ListRemoved})
    EXPECT_GT(kinds[k], 0) << store::ChangeKindName(k);
  // And a follower from the very beginning agrees too.
  FollowerState from_zero;
  int64_t zero = 0;
  CatchUp(s(), from_zero, &zero, 64);
  EXPECT_EQ(from_zero, follower);
}

// Several writer threads; a reader polling ChangesSince sees consecutive seqs only (never a
// later row before an earlier one), a snapshot taken mid-run plus the feed equals the final
// state, and the number of rows equals the number of changes the writers made.
TEST_P(StoreContract, ConcurrentWritersFeedAGapFreeOrderedSequence) {
  Account a = MustCreateAccount("feed-concurrent@example.com");
  List shared_list = MustCreateList(a.id, ListType::Descriptors);
  Person shared_person = MustCreatePerson(a.id);
  constexpr int kWriters = 4;
  constexpr int kRounds = 40;
  std::atomic<int> writers_left{kWriters};
  std::atomic<int64_t> expected_rows{0};
  std::mutex failures_mu;
  std::vector<std::string> failures;
  auto fail = [&](const std::string& what) {
    std::lock_guard lock(failures_mu);
    failures.push_back(what);
  };

  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int r = 0; r < kRounds; ++r) {
        Descriptor d = NewDescriptor(a.id, 3000 + r, static_cast<float>(w * 100 + r + 1));
        if (!s().CreateDescriptors({d})) fail("create");
        // Every writer attaches to and detaches from one shared person and list.
        int64_t rows = 1;
        if (!s().LinkPersonDescriptor(a.id, shared_person.id, d.id, LinkAction::Attach, 4000)) fail("attach");
        rows += 1;
        if (r % 3 == 0) {
          if (!s().LinkPersonDescriptor(a.id, shared_person.id, d.id, LinkAction::Detach, 4001)) fail("detach");
          rows += 1;
        }
        if (!s().LinkList(a.id, shared_list.id, ListType::Descriptors, LinkAction::Attach, {d.id}, 4002))
          fail("link");
        rows += 1;
        if (r % 2 == 0) {
          if (!s().LinkList(a.id, shared_list.id, ListType::Descriptors, LinkAction::Detach, {d.id}, 4003))
            fail("unlink");
          rows += 1;
        }
        expected_rows += rows;
      }
      --writers_left;
    });
  }

  // The reader: consecutive seqs, and a follower built from them.
  FollowerState reader_state;
  int64_t reader_seq = 0;
  std::thread reader([&] {
    for (;;) {
      const bool last_pass = writers_left.load() == 0;
      auto rows = s().ChangesSince(reader_seq, 7);
      if (!rows) {
        fail("changes since: " + rows.error().log_detail);
        return;
      }
      for (const auto& c : *rows) {
        if (c.seq != reader_seq + 1) {
          fail("seq " + std::to_string(c.seq) + " after " + std::to_string(reader_seq));
          return;
        }
        reader_state.Apply(c);
        reader_seq = c.seq;
      }
      if (last_pass && rows->size() < 7) return;
      if (rows->empty()) std::this_thread::yield();
    }
  });

  // Snapshots taken while the writers run: each must be exactly the state at its seq (a
  // snapshot that saw a write beyond its seq would apply that write twice below).
  std::vector<std::pair<int64_t, FollowerState>> snapshots;
  // At least one snapshot even when a loaded machine lets the writers finish first.
  std::thread snapshotter([&] {
    do {
      FollowerState st;
      const int64_t seq = LoadSnapshot(s(), st);
      snapshots.emplace_back(seq, std::move(st));
    } while (writers_left.load() > 0 && snapshots.size() < 10);
  });

  for (auto& t : writers) t.join();
  reader.join();
  snapshotter.join();
  ASSERT_TRUE(failures.empty()) << failures.front();

  const int64_t last = GET(s().LastChangeSeq());
  EXPECT_EQ(last, expected_rows.load());
  EXPECT_EQ(reader_seq, last);
  FollowerState fresh;
  EXPECT_EQ(LoadSnapshot(s(), fresh), last);
  EXPECT_EQ(reader_state, fresh) << reader_state.Describe() << "store:\n" << fresh.Describe();
  EXPECT_FALSE(snapshots.empty());
  for (auto& [seq, st] : snapshots) {
    CatchUp(s(), st, &seq, 13);
    EXPECT_EQ(st, fresh) << "snapshot at " << seq;
  }
  EXPECT_EQ(fresh.descriptors.size(), static_cast<size_t>(kWriters * kRounds));
}

}  // namespace store_testing
