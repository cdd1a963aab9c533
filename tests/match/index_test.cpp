// Index semantics: add/replace/remove, persons, lists, id sets, accounts, errors, and a
// randomised differential test against a plain reference model.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "match/index.hpp"
#include "match/quantize.hpp"
#include "test_util.hpp"

namespace match {
namespace {

using testing::MakeId;
using testing::Near;
using testing::RandomVector;

const Id kAcc = MakeId(1, 1), kOther = MakeId(2, 1);

std::vector<Id> DescIds(const std::vector<Candidate>& c) {
  std::vector<Id> out;
  for (const auto& x : c) out.push_back(x.descriptor_id);
  return out;
}

class IndexTest : public ::testing::Test {
 protected:
  Index idx{IndexOptions{.dim = 64}};
  std::mt19937 rng{42};
  std::vector<Candidate> M(const std::vector<float>& q, const Target& t = Target::All(), size_t k = 5,
                           const Id& acc = kAcc) {
    auto r = idx.Match(acc, q, t, k);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<Candidate>{};
  }
};

TEST_F(IndexTest, EmptyAccountMatchesNothing) {
  EXPECT_TRUE(M(RandomVector(rng, 64)).empty());
  EXPECT_EQ(idx.Size(kAcc), 0u);
}

TEST_F(IndexTest, AddFindsItselfFirstWithCosineOne) {
  std::vector<std::vector<float>> v;
  for (int i = 0; i < 20; ++i) {
    v.push_back(RandomVector(rng, 64));
    ASSERT_TRUE(idx.Add(kAcc, MakeId(100 + i), std::nullopt, v.back()).ok());
  }
  EXPECT_EQ(idx.Size(kAcc), 20u);
  for (int i = 0; i < 20; ++i) {
    auto r = M(v[i], Target::All(), 3);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].descriptor_id, MakeId(100 + i));
    EXPECT_NEAR(r[0].cosine, 1.f, 6e-3);  // int8 at dim 64: sd ~1.4e-3
    EXPECT_FALSE(r[0].person_id);
    EXPECT_GE(r[0].cosine, r[1].cosine);
    EXPECT_GE(r[1].cosine, r[2].cosine);
  }
  // Scale does not matter: cosine, not dot product.
  auto scaled = v[3];
  for (auto& x : scaled) x *= 7.5f;
  EXPECT_EQ(M(scaled, Target::All(), 1)[0].descriptor_id, MakeId(103));
}

TEST_F(IndexTest, CosineMatchesFloatWithinQuantisationError) {
  auto a = RandomVector(rng, 64);
  std::vector<float> ua(64);
  Normalize(a.data(), 64, ua.data());
  ASSERT_TRUE(idx.Add(kAcc, MakeId(1), std::nullopt, a).ok());
  for (float noise : {0.2f, 0.7f, 1.5f, 5.f}) {
    auto b = Near(rng, a, noise);
    std::vector<float> ub(64);
    Normalize(b.data(), 64, ub.data());
    float exact = 0;
    for (int j = 0; j < 64; ++j) exact += ua[j] * ub[j];
    EXPECT_NEAR(M(b)[0].cosine, exact, 1e-2) << noise;
  }
}

TEST_F(IndexTest, ReplaceUpdatesVectorAndPerson) {
  auto a = RandomVector(rng, 64), b = RandomVector(rng, 64);
  ASSERT_TRUE(idx.Add(kAcc, MakeId(1), MakeId(50), a).ok());
  ASSERT_TRUE(idx.Add(kAcc, MakeId(1), MakeId(51), b).ok());
  EXPECT_EQ(idx.Size(kAcc), 1u);
  auto r = M(b);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NEAR(r[0].cosine, 1.f, 6e-3);  // int8 at dim 64: sd ~1.4e-3
  EXPECT_EQ(r[0].person_id, MakeId(51));
  EXPECT_TRUE(M(a, Target::PersonIds({MakeId(50)})).empty());
}

TEST_F(IndexTest, RemoveKeepsEveryOtherDescriptorReachable) {
  std::vector<std::vector<float>> v;
  for (int i = 0; i < 50; ++i) {
    v.push_back(RandomVector(rng, 64));
    ASSERT_TRUE(idx.Add(kAcc, MakeId(i), MakeId(1000 + i % 7), v.back()).ok());
  }
  std::set<int> gone;
  for (int i : {0, 49, 10, 11, 25, 3, 48}) {
    EXPECT_TRUE(idx.Remove(kAcc, MakeId(i)));
    EXPECT_FALSE(idx.Remove(kAcc, MakeId(i)));
    gone.insert(i);
    for (int j = 0; j < 50; ++j) {
      auto r = M(v[j], Target::All(), 1);
      if (gone.count(j)) {
        EXPECT_NE(r[0].descriptor_id, MakeId(j));
        EXPECT_FALSE(idx.Contains(kAcc, MakeId(j)));
      } else {
        EXPECT_EQ(r[0].descriptor_id, MakeId(j));
        EXPECT_EQ(r[0].person_id, MakeId(1000 + j % 7));  // moved rows keep their person
        auto p = M(v[j], Target::PersonIds({MakeId(1000 + j % 7)}), 1);
        ASSERT_EQ(p.size(), 1u);
        EXPECT_EQ(p[0].descriptor_id, MakeId(j));
      }
    }
  }
  EXPECT_EQ(idx.Size(kAcc), 43u);
}

TEST_F(IndexTest, PersonsGiveOneResultCarryingTheBestDescriptor) {
  auto q = RandomVector(rng, 64);
  // person A: three descriptors, the middle one closest; person B: one, closer than A's best.
  ASSERT_TRUE(idx.Add(kAcc, MakeId(1), MakeId(10), Near(rng, q, 2.0f)).ok());
  ASSERT_TRUE(idx.Add(kAcc, MakeId(2), MakeId(10), Near(rng, q, 0.8f)).ok());
  ASSERT_TRUE(idx.Add(kAcc, MakeId(3), MakeId(10), Near(rng, q, 3.0f)).ok());
  ASSERT_TRUE(idx.Add(kAcc, MakeId(4), MakeId(11), Near(rng, q, 0.3f)).ok());
  ASSERT_TRUE(idx.Add(kAcc, MakeId(5), std::nullopt, Near(rng, q, 0.1f)).ok());  // no person
  auto r = M(q, Target::PersonIds({MakeId(10), MakeId(11), MakeId(12), MakeId(10)}));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].person_id, MakeId(11));
  EXPECT_EQ(r[0].descriptor_id, MakeId(4));
  EXPECT_EQ(r[1].person_id, MakeId(10));
  EXPECT_EQ(r[1].descriptor_id, MakeId(2));
  // All: per descriptor.
  EXPECT_EQ(M(q, Target::All(), 10).size(), 5u);
  // Detach the best of person 10: its next best represents it.
  EXPECT_TRUE(idx.SetPerson(kAcc, MakeId(2), std::nullopt));
  r = M(q, Target::PersonIds({MakeId(10)}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].descriptor_id, MakeId(1));
  // Attach descriptor 5 to person 10: now it is the best.
  EXPECT_TRUE(idx.SetPerson(kAcc, MakeId(5), MakeId(10)));
  r = M(q, Target::PersonIds({MakeId(10)}));
  EXPECT_EQ(r[0].descriptor_id, MakeId(5));
  EXPECT_EQ(idx.PersonOf(kAcc, MakeId(5)), std::optional<std::optional<Id>>(MakeId(10)));
  EXPECT_EQ(idx.PersonOf(kAcc, MakeId(2)), std::optional<std::optional<Id>>(std::optional<Id>{}));
  EXPECT_FALSE(idx.PersonOf(kAcc, MakeId(99)));
  EXPECT_FALSE(idx.SetPerson(kAcc, MakeId(99), MakeId(10)));
  // Removing the person detaches its descriptors, which stay matchable.
  idx.RemovePerson(kAcc, MakeId(10));
  EXPECT_TRUE(M(q, Target::PersonIds({MakeId(10)})).empty());
  EXPECT_EQ(M(q, Target::All(), 10).size(), 5u);
  EXPECT_EQ(idx.PersonOf(kAcc, MakeId(1)), std::optional<std::optional<Id>>(std::optional<Id>{}));
}

TEST_F(IndexTest, DescriptorsListsAndIdSets) {
  const Id list = MakeId(500), plist = MakeId(501);
  std::vector<std::vector<float>> v;
  for (int i = 0; i < 10; ++i) {
    v.push_back(RandomVector(rng, 64));
    ASSERT_TRUE(idx.Add(kAcc, MakeId(i), std::nullopt, v.back()).ok());
  }
  EXPECT_EQ(idx.Match(kAcc, v[0], Target::DescriptorsList(list), 5).error().code, core::Errc::ListNotFoundRef);
  EXPECT_EQ(idx.AddToList(kAcc, list, std::vector<Id>{MakeId(1)}).error().code, core::Errc::ListNotFoundRef);
  ASSERT_TRUE(idx.CreateList(kAcc, list, ListKind::kDescriptors));
  EXPECT_TRUE(idx.CreateList(kAcc, list, ListKind::kDescriptors));
  EXPECT_FALSE(idx.CreateList(kAcc, list, ListKind::kPersons));
  ASSERT_TRUE(idx.CreateList(kAcc, plist, ListKind::kPersons));
  EXPECT_TRUE(M(v[0], Target::DescriptorsList(list)).empty());
  auto wrong = idx.Match(kAcc, v[0], Target::PersonsList(list), 5);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, core::Errc::WrongListType);
  EXPECT_EQ(idx.Match(kAcc, v[0], Target::DescriptorsList(plist), 5).error().code, core::Errc::WrongListType);

  const std::vector<Id> members{MakeId(2), MakeId(4), MakeId(6), MakeId(77)};  // 77: not (yet) indexed
  ASSERT_TRUE(idx.AddToList(kAcc, list, members).ok());
  auto r = M(v[4], Target::DescriptorsList(list), 10);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].descriptor_id, MakeId(4));
  // The member added later becomes a candidate as soon as it is indexed.
  auto v77 = RandomVector(rng, 64);
  ASSERT_TRUE(idx.Add(kAcc, MakeId(77), std::nullopt, v77).ok());
  EXPECT_EQ(M(v77, Target::DescriptorsList(list), 1)[0].descriptor_id, MakeId(77));
  // Detach one, delete one.
  ASSERT_TRUE(idx.RemoveFromList(kAcc, list, std::vector<Id>{MakeId(4)}).ok());
  EXPECT_TRUE(idx.Remove(kAcc, MakeId(6)));
  r = M(v[4], Target::DescriptorsList(list), 10);
  const auto ids = DescIds(r);
  std::set<Id> got(ids.begin(), ids.end());
  EXPECT_EQ(got, (std::set<Id>{MakeId(2), MakeId(77)}));
  // A deleted descriptor leaves its lists for good (even if an id came back).
  ASSERT_TRUE(idx.Add(kAcc, MakeId(6), std::nullopt, v[6]).ok());
  EXPECT_EQ(M(v[6], Target::DescriptorsList(list), 10).size(), 2u);
  // Explicit ids: unknown and duplicate ids are ignored.
  r = M(v[3], Target::DescriptorIds({MakeId(3), MakeId(3), MakeId(5), MakeId(999)}), 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].descriptor_id, MakeId(3));
  // Drop the list.
  EXPECT_TRUE(idx.DropList(kAcc, list));
  EXPECT_FALSE(idx.DropList(kAcc, list));
  EXPECT_EQ(idx.Match(kAcc, v[0], Target::DescriptorsList(list), 5).error().code, core::Errc::ListNotFoundRef);
}

TEST_F(IndexTest, PersonsLists) {
  const Id plist = MakeId(600);
  auto q = RandomVector(rng, 64);
  ASSERT_TRUE(idx.CreateList(kAcc, plist, ListKind::kPersons));
  ASSERT_TRUE(idx.Add(kAcc, MakeId(1), MakeId(10), Near(rng, q, 0.5f)).ok());
  ASSERT_TRUE(idx.Add(kAcc, MakeId(2), MakeId(10), Near(rng, q, 0.2f)).ok());
  ASSERT_TRUE(idx.Add(kAcc, MakeId(3), MakeId(11), Near(rng, q, 0.1f)).ok());
  ASSERT_TRUE(idx.Add(kAcc, MakeId(4), MakeId(12), Near(rng, q, 0.05f)).ok());
  ASSERT_TRUE(idx.AddToList(kAcc, plist, std::vector<Id>{MakeId(10), MakeId(11), MakeId(13)}).ok());
  auto r = M(q, Target::PersonsList(plist), 5);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].person_id, MakeId(11));
  EXPECT_EQ(r[1].person_id, MakeId(10));
  EXPECT_EQ(r[1].descriptor_id, MakeId(2));
  // k limits persons, not descriptors.
  EXPECT_EQ(M(q, Target::PersonsList(plist), 1).size(), 1u);
  // A descriptor attached later to a listed person becomes a candidate.
  ASSERT_TRUE(idx.SetPerson(kAcc, MakeId(4), MakeId(13)));
  r = M(q, Target::PersonsList(plist), 5);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].descriptor_id, MakeId(4));
  EXPECT_EQ(r[0].person_id, MakeId(13));
  // A deleted person leaves the list.
  idx.RemovePerson(kAcc, MakeId(11));
  ASSERT_TRUE(idx.SetPerson(kAcc, MakeId(3), MakeId(11)));  // even if the id is reused
  r = M(q, Target::PersonsList(plist), 5);
  EXPECT_EQ(r.size(), 2u);
  ASSERT_TRUE(idx.RemoveFromList(kAcc, plist, std::vector<Id>{MakeId(13)}).ok());
  r = M(q, Target::PersonsList(plist), 5);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].person_id, MakeId(10));
}

// A list holding a large share of the account is scanned in row order with a membership check
// (index.cpp, "dense"); a small one gathers its rows. Both must give exactly what the explicit
// id set of the same members gives (always gathered), whatever the share, for descriptors and
// for persons (several descriptors per person, some unattached, near-duplicate vectors so that
// many rows pass the top-k threshold).
TEST_F(IndexTest, ListsOfEveryShareAgreeWithTheirIdSets) {
  Index big{IndexOptions{.dim = 64}};
  const size_t rows = 2000, persons = 500;
  auto base = RandomVector(rng, 64);
  std::vector<Id> descs, people;
  for (size_t p = 0; p < persons; ++p) people.push_back(MakeId(50000 + p));
  for (size_t i = 0; i < rows; ++i) {
    descs.push_back(MakeId(i + 1));
    const std::optional<Id> person = i % 5 == 4 ? std::nullopt : std::optional<Id>(people[(i * 7) % persons]);
    ASSERT_TRUE(big.Add(kAcc, descs.back(), person, i % 3 ? RandomVector(rng, 64) : Near(rng, base, 0.3f)).ok());
  }
  std::shuffle(descs.begin(), descs.end(), rng);
  std::shuffle(people.begin(), people.end(), rng);
  int list_no = 0;
  // Shares around the dense threshold (1/8 of the rows) and far from it on both sides.
  for (double share : {0.01, 0.1, 0.124, 0.126, 0.2, 0.5, 1.0}) {
    const Id dl = MakeId(900000 + list_no++), pl = MakeId(900000 + list_no++);
    ASSERT_TRUE(big.CreateList(kAcc, dl, ListKind::kDescriptors));
    ASSERT_TRUE(big.CreateList(kAcc, pl, ListKind::kPersons));
    const std::vector<Id> dm(descs.begin(), descs.begin() + long(share * rows));
    // Persons: a share of the rows' worth of persons (4 rows per attached person on average).
    const std::vector<Id> pm(people.begin(), people.begin() + long(std::min(1.0, share * 4) * persons));
    ASSERT_TRUE(big.AddToList(kAcc, dl, dm).ok());
    ASSERT_TRUE(big.AddToList(kAcc, pl, pm).ok());
    for (int qn = 0; qn < 5; ++qn) {
      const auto q = qn % 2 ? RandomVector(rng, 64) : Near(rng, base, 0.3f);
      for (size_t k : {1, 3, 5}) {
        auto a = big.Match(kAcc, q, Target::DescriptorsList(dl), k);
        auto b = big.Match(kAcc, q, Target::DescriptorIds(dm), k);
        ASSERT_TRUE(a.ok() && b.ok());
        ASSERT_EQ(a->size(), std::min(k, dm.size())) << share;
        EXPECT_EQ(DescIds(*a), DescIds(*b)) << "descriptors, share " << share << " k " << k;
        auto c = big.Match(kAcc, q, Target::PersonsList(pl), k);
        auto d = big.Match(kAcc, q, Target::PersonIds(pm), k);
        ASSERT_TRUE(c.ok() && d.ok());
        ASSERT_EQ(c->size(), d->size()) << share;
        EXPECT_EQ(DescIds(*c), DescIds(*d)) << "persons, share " << share << " k " << k;
        std::set<Id> distinct;
        for (const auto& x : *c) {
          ASSERT_TRUE(x.person_id.has_value());
          distinct.insert(*x.person_id);
        }
        EXPECT_EQ(distinct.size(), c->size()) << "one candidate per person";
      }
    }
  }
}

TEST_F(IndexTest, AccountsAreIsolated) {
  auto a = RandomVector(rng, 64);
  ASSERT_TRUE(idx.Add(kAcc, MakeId(1), MakeId(9), a).ok());
  EXPECT_TRUE(M(a, Target::All(), 5, kOther).empty());
  EXPECT_TRUE(M(a, Target::DescriptorIds({MakeId(1)}), 5, kOther).empty());
  EXPECT_TRUE(M(a, Target::PersonIds({MakeId(9)}), 5, kOther).empty());
  EXPECT_FALSE(idx.Remove(kOther, MakeId(1)));
  EXPECT_FALSE(idx.Contains(kOther, MakeId(1)));
  idx.DropAccount(kAcc);
  EXPECT_TRUE(M(a).empty());
  EXPECT_EQ(idx.Size(kAcc), 0u);
}

TEST_F(IndexTest, RejectsBadVectors) {
  EXPECT_EQ(idx.Add(kAcc, MakeId(1), std::nullopt, std::vector<float>(63, 1.f)).error().code,
            core::Errc::DescriptorFormat);
  EXPECT_FALSE(idx.Add(kAcc, MakeId(1), std::nullopt, std::vector<float>(64, 0.f)).ok());
  auto nan = RandomVector(rng, 64);
  nan[5] = std::nanf("");
  EXPECT_FALSE(idx.Add(kAcc, MakeId(1), std::nullopt, nan).ok());
  EXPECT_FALSE(idx.Match(kAcc, nan, Target::All(), 5).ok());
  EXPECT_FALSE(idx.Match(kAcc, std::vector<float>(65, 1.f), Target::All(), 5).ok());
  EXPECT_EQ(idx.Size(kAcc), 0u);
}

// List bookkeeping is released when members leave (RemoveFromList, DropList, Remove,
// RemovePerson): every number is freed exactly once (CheckConsistency) and reused, so
// churning through fresh ids keeps the memory of the first round.
TEST_F(IndexTest, ListChurnDoesNotGrowMemory) {
  const Id dl = MakeId(9100), dl2 = MakeId(9101), pl = MakeId(9102);
  size_t after_first = 0;
  for (int round = 0; round < 6; ++round) {
    ASSERT_TRUE(idx.CreateList(kAcc, dl, ListKind::kDescriptors));
    ASSERT_TRUE(idx.CreateList(kAcc, dl2, ListKind::kDescriptors));
    ASSERT_TRUE(idx.CreateList(kAcc, pl, ListKind::kPersons));
    std::vector<Id> ds, ps;
    for (int i = 0; i < 2000; ++i) {
      ds.push_back(MakeId(uint32_t(round * 10000 + i), 3));
      ps.push_back(MakeId(uint32_t(round * 10000 + i), 4));
      ASSERT_TRUE(idx.Add(kAcc, ds.back(), ps.back(), RandomVector(rng, 64)).ok());
    }
    ASSERT_TRUE(idx.AddToList(kAcc, dl, ds).ok());
    ASSERT_TRUE(idx.AddToList(kAcc, dl2, ds).ok());  // every descriptor in two lists
    ASSERT_TRUE(idx.AddToList(kAcc, pl, ps).ok());
    ASSERT_TRUE(idx.CheckConsistency(kAcc).ok());
    // Each way out: a quarter removed from a list, a quarter of the descriptors removed, a
    // quarter of the persons removed, and the lists dropped with the rest.
    ASSERT_TRUE(idx.RemoveFromList(kAcc, dl, std::span(ds).subspan(0, 500)).ok());
    ASSERT_TRUE(idx.RemoveFromList(kAcc, pl, std::span(ps).subspan(0, 500)).ok());
    for (int i = 500; i < 1000; ++i) ASSERT_TRUE(idx.Remove(kAcc, ds[size_t(i)]));
    for (int i = 1000; i < 1500; ++i) idx.RemovePerson(kAcc, ps[size_t(i)]);
    ASSERT_TRUE(idx.DropList(kAcc, dl));
    ASSERT_TRUE(idx.DropList(kAcc, dl2));
    ASSERT_TRUE(idx.DropList(kAcc, pl));
    for (const Id& d : ds) idx.Remove(kAcc, d);
    ASSERT_EQ(idx.Size(kAcc), 0u);
    const auto consistent = idx.CheckConsistency(kAcc);
    ASSERT_TRUE(consistent.ok()) << consistent.error().log_detail;
    if (round == 0) after_first = idx.MemoryBytes(kAcc);
    EXPECT_EQ(idx.MemoryBytes(kAcc), after_first) << "round " << round;
  }
  // And the lists still work from empty.
  ASSERT_TRUE(idx.CreateList(kAcc, dl, ListKind::kDescriptors));
  const auto v = RandomVector(rng, 64);
  ASSERT_TRUE(idx.Add(kAcc, MakeId(1, 9), std::nullopt, v).ok());
  ASSERT_TRUE(idx.AddToList(kAcc, dl, std::vector<Id>{MakeId(1, 9)}).ok());
  EXPECT_EQ(DescIds(M(v, Target::DescriptorsList(dl))), std::vector<Id>{MakeId(1, 9)});
}

// Random writes against a plain model; every target kind compared with brute force over the
// model (same quantisation, scalar kernel), for each ISA.
class IndexModelTest : public ::testing::TestWithParam<Isa> {};

TEST_P(IndexModelTest, RandomOperationsAgreeWithModel) {
  if (!IsaSupported(GetParam())) GTEST_SKIP();
  const size_t dim = 100;  // not a multiple of any vector width
  Index idx(IndexOptions{.dim = dim, .kernels = &KernelsFor(GetParam())});
  std::mt19937 rng(99);
  struct Desc {
    std::vector<int8_t> code;
    float scale;
    std::optional<Id> person;
  };
  std::map<Id, Desc> model;
  // Three lists of each kind, so that ids are members of several lists at once; lists are
  // dropped and re-created now and then (their slots are reused).
  const Id dls[3] = {MakeId(7000), MakeId(7002), MakeId(7004)};
  const Id pls[3] = {MakeId(7001), MakeId(7003), MakeId(7005)};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(idx.CreateList(kAcc, dls[i], ListKind::kDescriptors));
    ASSERT_TRUE(idx.CreateList(kAcc, pls[i], ListKind::kPersons));
  }
  std::set<Id> dmembers[3], pmembers[3];
  auto quant = [&](const std::vector<float>& v) {
    std::vector<float> u(dim);
    Normalize(v.data(), dim, u.data());
    Desc d;
    d.code.resize(dim);
    d.scale = QuantizeI8(u.data(), dim, d.code.data());
    return d;
  };
  // What the index returns: the float query against the stored int8 code (its re-scoring).
  auto cosine = [&](const std::vector<float>& qunit, const Desc& d) {
    return d.scale * DotFloatInt8(qunit.data(), d.code.data(), dim);
  };
  std::uniform_int_distribution<int> op(0, 9), pick(0, 299), pers(0, 40);
  for (int step = 0; step < 4000; ++step) {
    const Id d = MakeId(pick(rng));
    const Id p = MakeId(100000 + pers(rng));
    const int li = pers(rng) % 3;
    switch (op(rng)) {
      case 0: case 1: case 2: case 3: {
        auto v = RandomVector(rng, dim);
        const std::optional<Id> person = pers(rng) % 3 ? std::optional<Id>(p) : std::nullopt;
        ASSERT_TRUE(idx.Add(kAcc, d, person, v).ok());
        Desc m = quant(v);
        m.person = person;
        model[d] = m;
        break;
      }
      case 4:
        ASSERT_EQ(idx.Remove(kAcc, d), model.erase(d) == 1);
        for (auto& m : dmembers) m.erase(d);
        break;
      case 5: {
        const std::optional<Id> person = pers(rng) % 4 ? std::optional<Id>(p) : std::nullopt;
        ASSERT_EQ(idx.SetPerson(kAcc, d, person), model.count(d) == 1);
        if (model.count(d)) model[d].person = person;
        break;
      }
      case 6:
        ASSERT_TRUE(idx.AddToList(kAcc, dls[li], std::vector<Id>{d}).ok());
        dmembers[li].insert(d);  // membership of a not-yet-indexed id counts once it is indexed
        ASSERT_TRUE(idx.AddToList(kAcc, pls[li], std::vector<Id>{p}).ok());
        pmembers[li].insert(p);
        break;
      case 7:
        ASSERT_TRUE(idx.RemoveFromList(kAcc, dls[li], std::vector<Id>{d}).ok());
        dmembers[li].erase(d);
        ASSERT_TRUE(idx.RemoveFromList(kAcc, pls[li], std::vector<Id>{p}).ok());
        pmembers[li].erase(p);
        break;
      case 8:
        if (pers(rng) == 0) {
          idx.RemovePerson(kAcc, p);
          for (auto& [id, m] : model)
            if (m.person == p) m.person.reset();
          for (auto& m : pmembers) m.erase(p);
        } else if (pers(rng) == 0) {
          const bool persons = pers(rng) % 2;
          const Id l = persons ? pls[li] : dls[li];
          ASSERT_TRUE(idx.DropList(kAcc, l));
          ASSERT_TRUE(idx.CreateList(kAcc, l, persons ? ListKind::kPersons : ListKind::kDescriptors));
          (persons ? pmembers[li] : dmembers[li]).clear();
        }
        break;
      default: {
        const auto qv = RandomVector(rng, dim);
        std::vector<float> q(dim);
        Normalize(qv.data(), dim, q.data());
        const size_t k = size_t(1 + pers(rng) % 7);
        std::vector<Id> idset, pset;
        for (int i = 0; i < 30; ++i) idset.push_back(MakeId(pick(rng))), pset.push_back(MakeId(100000 + pers(rng)));
        struct T {
          Target target;
          bool per_person;
          std::function<bool(const Id&, const Desc&)> in;
        };
        std::set<Id> idset_s(idset.begin(), idset.end()), pset_s(pset.begin(), pset.end());
        std::vector<T> targets{
            {Target::All(), false, [](const Id&, const Desc&) { return true; }},
            {Target::DescriptorsList(dls[0]), false, [&](const Id& id, const Desc&) { return dmembers[0].count(id) > 0; }},
            {Target::DescriptorsList(dls[1]), false, [&](const Id& id, const Desc&) { return dmembers[1].count(id) > 0; }},
            {Target::DescriptorsList(dls[2]), false, [&](const Id& id, const Desc&) { return dmembers[2].count(id) > 0; }},
            {Target::DescriptorIds(idset), false, [&](const Id& id, const Desc&) { return idset_s.count(id) > 0; }},
            {Target::PersonsList(pls[0]), true,
             [&](const Id&, const Desc& m) { return m.person && pmembers[0].count(*m.person) > 0; }},
            {Target::PersonsList(pls[1]), true,
             [&](const Id&, const Desc& m) { return m.person && pmembers[1].count(*m.person) > 0; }},
            {Target::PersonsList(pls[2]), true,
             [&](const Id&, const Desc& m) { return m.person && pmembers[2].count(*m.person) > 0; }},
            {Target::PersonIds(pset), true,
             [&](const Id&, const Desc& m) { return m.person && pset_s.count(*m.person) > 0; }},
        };
        for (const auto& t : targets) {
          auto got = idx.Match(kAcc, qv, t.target, k);
          ASSERT_TRUE(got.ok());
          // Expected: best cosine per key (descriptor or person), sorted.
          std::map<Id, std::pair<float, Id>> best;
          for (const auto& [id, m] : model) {
            if (!t.in(id, m)) continue;
            const Id key = t.per_person ? *m.person : id;
            const float s = cosine(q, m);
            auto it = best.find(key);
            if (it == best.end() || s > it->second.first) best[key] = {s, id};
          }
          std::vector<std::pair<float, Id>> want;
          for (const auto& [key, v] : best) want.push_back(v);
          std::sort(want.begin(), want.end(), [](auto& a, auto& b) { return a.first > b.first; });
          if (want.size() > k) want.resize(k);
          ASSERT_EQ(got->size(), want.size()) << "step " << step << " kind " << int(t.target.kind);
          for (size_t i = 0; i < want.size(); ++i) {
            EXPECT_FLOAT_EQ((*got)[i].cosine, std::clamp(want[i].first, -1.f, 1.f));
            EXPECT_EQ((*got)[i].descriptor_id, want[i].second) << "step " << step << " kind " << int(t.target.kind);
            EXPECT_EQ((*got)[i].person_id, model[want[i].second].person);
          }
        }
      }
    }
    ASSERT_EQ(idx.Size(kAcc), model.size());
    const auto consistent = idx.CheckConsistency(kAcc);
    ASSERT_TRUE(consistent.ok()) << "step " << step << ": " << consistent.error().log_detail;
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, IndexModelTest, ::testing::ValuesIn(kAllIsas),
                         [](const auto& info) { return std::string(IsaName(info.param)); });

}  // namespace
}  // namespace match
