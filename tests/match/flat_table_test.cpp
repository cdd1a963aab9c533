// FlatTable / IdSet / IdMap against std containers: random inserts and erases over a small key
// space (long probe runs, wrap-around at the array end, backward shifts), growth, the nil key,
// and a row-keyed table whose slots find their keys in an outside array (as the index uses it).
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
  const uint64_t v = rng() % uint64_t(space);  // small space: many repeats; 0 gives the nil id
  for (int i = 0; i < 8; ++i) id.bytes[size_t(i)] = uint8_t(v >> (8 * i));
  return id;
}

TEST(FlatTable, IdSetAgreesWithStdSet) {
  for (int space : {3, 40, 5000}) {
    std::mt19937_64 rng{uint64_t(space)};
    IdSet set;
    std::set<Id> model;
    for (int step = 0; step < 60000; ++step) {
      const Id id = RandomId(rng, space);
      switch (rng() % 3) {
        case 0:
        case 1:
          ASSERT_EQ(set.Insert(id), model.insert(id).second);
          break;
        default:
          ASSERT_EQ(set.Erase(id), model.erase(id) == 1);
      }
      ASSERT_EQ(set.size(), model.size());
      if (step % 997 == 0) {
        std::set<Id> seen;
        set.ForEach([&](const Id& x) { EXPECT_TRUE(seen.insert(x).second); });
        ASSERT_EQ(seen, model);
        for (int probe = 0; probe < 200; ++probe) {
          const Id q = RandomId(rng, space);
          ASSERT_EQ(set.Contains(q), model.count(q) == 1);
        }
      }
    }
  }
}

TEST(FlatTable, IdMapAgreesWithStdMap) {
  std::mt19937_64 rng(7);
  IdMap map;
  std::map<Id, uint32_t> model;
  for (int step = 0; step < 60000; ++step) {
    const Id id = RandomId(rng, 700);
    const uint32_t v = uint32_t(rng());
    if (rng() % 3 != 0) {
      auto [p, fresh] = map.Insert(id, v);
      auto [it, mfresh] = model.emplace(id, v);
      ASSERT_EQ(fresh, mfresh);
      ASSERT_EQ(*p, it->second);
      if (rng() % 2) *p = it->second = v ^ 0x5555;  // values are writable in place
    } else {
      ASSERT_EQ(map.Erase(id), model.erase(id) == 1);
    }
    ASSERT_EQ(map.size(), model.size());
    const Id q = RandomId(rng, 700);
    const uint32_t* found = map.Find(q);
    auto it = model.find(q);
    ASSERT_EQ(found != nullptr, it != model.end());
    if (found) {
      ASSERT_EQ(*found, it->second);
    }
  }
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
