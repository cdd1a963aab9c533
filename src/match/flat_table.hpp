#pragma once
// match::FlatTable: an open-addressing hash table (linear probing, backward-shift deletion, no
// tombstones) over a power-of-two array of trivially copyable slots, for the index's per-
// descriptor bookkeeping. Why not std::unordered_map: a node-based map costs a heap node
// (~48 bytes) plus a bucket pointer per entry; the slots here are 4 to 20 bytes at a load factor
// of 3/8 to 3/4, which is what keeps the index under 700 bytes per descriptor
// (docs/BENCHMARKS.md, "Matching").
//
// Contract:
//  - A slot whose bytes are all zero is empty, so a fresh (zero-filled) array is an
//    empty table and capacity never written costs no memory. Callers encode their values so that
//    no live slot is all zero (e.g. row + 1).
//  - Ops supplies the key logic, so that a slot may hold only a row number and find its key in
//    the index's arrays: `uint64_t Hash(const Slot&) const`, `uint64_t Hash(const K&) const` and
//    `bool Equal(const Slot&, const K&) const` for each key type K used, equal keys hashing
//    equally. Ops must hash a moved slot to the same value as before (the table rehashes on
//    growth and on deletion shifts).
//  - Pointers returned by Find/Insert are valid until the next Insert or Erase.
//  - Not thread-safe: the index's account lock guards it.
#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "match/id.hpp"

namespace match {

template <class Slot>
class FlatTable {
  static_assert(std::is_trivially_copyable_v<Slot>);

 public:
  FlatTable() = default;
  FlatTable(const FlatTable&) = delete;
  FlatTable& operator=(const FlatTable&) = delete;
  FlatTable(FlatTable&& o) noexcept { *this = std::move(o); }
  FlatTable& operator=(FlatTable&& o) noexcept {
    if (this != &o) {
      Release();
      slots_ = std::exchange(o.slots_, nullptr);
      mask_ = std::exchange(o.mask_, 0);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~FlatTable() { Release(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Bytes of the slot array (all of it touched once the table is a third full).
  size_t bytes() const { return slots_ ? (mask_ + 1) * sizeof(Slot) : 0; }

  template <class K, class Ops>
  Slot* Find(const K& key, const Ops& ops) {
    if (!slots_) return nullptr;
    for (size_t i = Home(ops.Hash(key));; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (IsEmpty(s)) return nullptr;
      if (ops.Equal(s, key)) return &s;
    }
  }
  template <class K, class Ops>
  const Slot* Find(const K& key, const Ops& ops) const {
    return const_cast<FlatTable*>(this)->Find(key, ops);
  }

  // The slot of key, inserting `fresh` (which must hold key, not all zero) when absent;
  // second: inserted. Throws std::bad_alloc only when the key is absent and growing fails (the
  // table is unchanged then); finding a present key never allocates.
  template <class K, class Ops>
  std::pair<Slot*, bool> Insert(const K& key, const Slot& fresh, const Ops& ops) {
    if (Slot* s = Find(key, ops)) return {s, false};
    Reserve(size_ + 1, ops);
    size_t i = Home(ops.Hash(key));
    while (!IsEmpty(slots_[i])) i = (i + 1) & mask_;
    slots_[i] = fresh;
    ++size_;
    return {&slots_[i], true};
  }

  // Grows now so that inserting up to n entries in all cannot throw.
  template <class Ops>
  void Reserve(size_t n, const Ops& ops) {
    while (n * 4 > Capacity() * 3) Grow(ops);
  }

  // Removes the slot (a pointer from Find/Insert) and shifts the rest of its probe run back, so
  // lookups never need tombstones.
  template <class Ops>
  void Erase(Slot* slot, const Ops& ops) {
    size_t hole = size_t(slot - slots_);
    for (size_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
      if (IsEmpty(slots_[j])) break;
      const size_t home = Home(ops.Hash(slots_[j]));
      // slots_[j] may move into the hole when its home is not in the cyclic range (hole, j].
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    std::memset(static_cast<void*>(&slots_[hole]), 0, sizeof(Slot));
    --size_;
  }

  template <class K, class Ops>
  bool Erase(const K& key, const Ops& ops) {
    Slot* s = Find(key, ops);
    if (!s) return false;
    Erase(s, ops);
    return true;
  }

  // fn(slot) for every live slot, in table order (not insertion order).
  template <class Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; slots_ && i <= mask_; ++i)
      if (!IsEmpty(slots_[i])) fn(slots_[i]);
  }

  void Clear() {
    Release();
    slots_ = nullptr;
    mask_ = size_ = 0;
  }

 private:
  static bool IsEmpty(const Slot& s) {
    static constexpr Slot kZero{};
    return std::memcmp(&s, &kZero, sizeof(Slot)) == 0;
  }
  size_t Capacity() const { return slots_ ? mask_ + 1 : 0; }
  // Fibonacci hashing: the top bits of the product, so hashes weak in their low bits still spread.
  size_t Home(uint64_t h) const {
    const int bits = std::countr_zero(mask_ + 1);
    return bits == 0 ? 0 : size_t((h * 0x9E3779B97F4A7C15ull) >> (64 - bits));
  }
  // Big arrays are mapped directly, so that a freed one goes back to the kernel at once (glibc
  // may keep a freed heap block of many MB, and its mmap threshold adapts upwards); small ones
  // come from calloc, so that thousands of small accounts and lists do not use up
  // vm.max_map_count.
  static constexpr size_t kMapBytes = size_t(1) << 20;
  static Slot* Allocate(size_t n) {
    const size_t b = n * sizeof(Slot);
    if (b < kMapBytes) {
      void* p = std::calloc(n, sizeof(Slot));
      if (!p) throw std::bad_alloc();
      return static_cast<Slot*>(p);
    }
    void* p = mmap(nullptr, b, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if (b >= (size_t(2) << 20)) madvise(p, b, MADV_HUGEPAGE);
    return static_cast<Slot*>(p);
  }
  static void Free(Slot* p, size_t n) {
    if (!p) return;
    if (n * sizeof(Slot) < kMapBytes)
      std::free(p);
    else
      munmap(p, n * sizeof(Slot));
  }
  void Release() { Free(slots_, Capacity()); }
  template <class Ops>
  void Grow(const Ops& ops) {
    const size_t cap = slots_ ? (mask_ + 1) * 2 : 16;
    Slot* fresh = Allocate(cap);  // throws before anything changed
    Slot* old = slots_;
    const size_t old_cap = Capacity();
    slots_ = fresh;
    mask_ = cap - 1;
    for (size_t i = 0; i < old_cap; ++i) {
      if (IsEmpty(old[i])) continue;
      size_t j = Home(ops.Hash(old[i]));
      while (!IsEmpty(slots_[j])) j = (j + 1) & mask_;
      slots_[j] = old[i];
    }
    Free(old, old_cap);
  }

  Slot* slots_ = nullptr;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// Hash of an Id for FlatTable (which takes the top bits: mix both halves into all 64).
inline uint64_t HashId(const Id& id) {
  uint64_t a, b;
  std::memcpy(&a, id.bytes.data(), 8);
  std::memcpy(&b, id.bytes.data() + 8, 8);
  uint64_t h = a ^ (b * 0xBF58476D1CE4E5B9ull);
  h ^= h >> 31;
  return h;
}

}  // namespace match
