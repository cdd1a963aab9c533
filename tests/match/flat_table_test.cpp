// FlatTable against std containers: random inserts and erases over a small key space (long
// probe runs, wrap-around at the array end, backward shifts), growth, Reserve, and a row-keyed
// table whose slots find their keys in an outside array (as the index uses it).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <vector>

#include "match/flat_table.hpp"

namespace match {
namespace {

Id RandomId(std::mt19937_64& rng, int space) {
  Id id;
  const uint64_t v = rng() % uint64_t(space);  // small space: many repeats
  for (int i = 0; i < 8; ++i) id.bytes[size_t(i)] = uint8_t(v >> (8 * i));
  return id;
}

// A set of numbers, each stored as number + 1 (as the index's list sets are).
struct NumberOps {
  uint64_t Hash(uint32_t slot) const { return slot; }
  bool Equal(uint32_t slot, uint32_t key) const { return slot == key; }
};

TEST(FlatTable, NumberSetAgreesWithStdSet) {
  for (uint32_t space : {3u, 40u, 5000u}) {
    std::mt19937_64 rng{space};
    FlatTable<uint32_t> set;
    std::set<uint32_t> model;
    for (int step = 0; step < 60000; ++step) {
      const uint32_t key = uint32_t(rng() % space) + 1;
      if (rng() % 3 != 0) {
        ASSERT_EQ(set.Insert(key, key, NumberOps{}).second, model.insert(key).second);
      } else {
        ASSERT_EQ(set.Erase(key, NumberOps{}), model.erase(key) == 1);
      }
      ASSERT_EQ(set.size(), model.size());
      if (step % 997 == 0) {
        std::set<uint32_t> seen;
        set.ForEach([&](uint32_t x) { EXPECT_TRUE(seen.insert(x).second); });
        ASSERT_EQ(seen, model);
        for (uint32_t q = 1; q <= std::min(space, 300u); ++q)
          ASSERT_EQ(set.Find(q, NumberOps{}) != nullptr, model.count(q) == 1);
      }
    }
  }
}

TEST(FlatTable, ReserveMakesRoomAndKeepsEntries) {
  FlatTable<uint32_t> set;
  for (uint32_t k = 1; k <= 100; ++k) set.Insert(k, k, NumberOps{});
  set.Reserve(10000, NumberOps{});
  EXPECT_GE(set.bytes(), 10000 * 4 * sizeof(uint32_t) / 3);
  EXPECT_EQ(set.size(), 100u);
  for (uint32_t k = 1; k <= 100; ++k) EXPECT_NE(set.Find(k, NumberOps{}), nullptr);
  EXPECT_EQ(set.Find(101u, NumberOps{}), nullptr);
}

// Slots hold row + 1; keys live in `keys` (moved rows are re-pointed, as Index::Remove does).
struct RowOps {
  const std::vector<Id>* keys;
  uint64_t Hash(uint32_t slot) const { return HashId((*keys)[slot - 1]); }
  uint64_t Hash(const Id& id) const { return HashId(id); }
  bool Equal(uint32_t slot, const Id& id) const { return (*keys)[slot - 1] == id; }
};

TEST(FlatTable, RowKeyedTableFollowsSwapRemove) {
  std::mt19937_64 rng(11);
  std::vector<Id> keys;
  FlatTable<uint32_t> rows;
  std::map<Id, size_t> model;  // key -> row
  const RowOps ops{&keys};
  for (int step = 0; step < 50000; ++step) {
    Id id = RandomId(rng, 3000);
    id.bytes[15] = 1;  // never nil
    auto it = model.find(id);
    if (it == model.end()) {
      keys.push_back(id);
      ASSERT_TRUE(rows.Insert(id, uint32_t(keys.size()), ops).second);
      model[id] = keys.size() - 1;
    } else {
      const size_t row = it->second, last = keys.size() - 1;
      uint32_t* slot = rows.Find(id, ops);
      ASSERT_NE(slot, nullptr);
      ASSERT_EQ(*slot, row + 1);
      rows.Erase(slot, ops);
      model.erase(it);
      if (row != last) {
        keys[row] = keys[last];
        *rows.Find(keys[row], ops) = uint32_t(row + 1);
        model[keys[row]] = row;
      }
      keys.pop_back();
    }
    ASSERT_EQ(rows.size(), model.size());
  }
  for (const auto& [id, row] : model) {
    const uint32_t* slot = rows.Find(id, ops);
    ASSERT_NE(slot, nullptr);
    EXPECT_EQ(*slot, row + 1);
  }
}

}  // namespace
}  // namespace match
