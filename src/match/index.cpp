// match::Index implementation. See index.hpp for the layout and the thread-safety contract.
#include "match/index.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "match/flat_table.hpp"
#include "match/quantize.hpp"
#include "match/topk.hpp"

namespace match {
namespace {

constexpr uint32_t kNoRow = std::numeric_limits<uint32_t>::max();
constexpr size_t kChunkRows = 1024;  // rows scored per kernel call (scores stay in L1)
constexpr size_t kRerankMargin = 16;  // extra stage-1 candidates re-scored exactly
// A list with at least 1/kDenseShare of the account's rows as members is scanned like the whole
// account (see Match).
constexpr size_t kDenseShare = 8;

// Stage-1 collector for a row-order scan of a persons list: the best `k` persons, each with
// its best row so far. Pushes are rare (only scores above Threshold()), so a linear search
// over at most k + kRerankMargin entries is cheaper than any map.
class DistinctPersonTop {
 public:
  struct Entry {
    float score;
    uint32_t row;
    Id person;
    uint64_t seq;  // when the person first entered: earlier wins ties, as in TopK
  };
  explicit DistinctPersonTop(size_t k) : k_(k) { entries_.reserve(k); }
  float Threshold() const { return threshold_; }
  void Push(float score, uint32_t row, const Id& person) {
    if (k_ == 0) return;
    for (auto& e : entries_)
      if (e.person == person) {
        if (score > e.score) e.score = score, e.row = row;  // ties: the lower row stays
        Recompute();
        return;
      }
    if (entries_.size() < k_) {
      entries_.push_back({score, row, person, seq_++});
    } else {
      auto worst = std::min_element(entries_.begin(), entries_.end(), Worse);
      if (!(score > worst->score)) return;
      *worst = {score, row, person, seq_++};
    }
    Recompute();
  }
  // In first-entry order, so that TopK's tie rule (earlier push wins) carries over.
  std::vector<Entry> Take() {
    std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.seq < b.seq; });
    return std::move(entries_);
  }

 private:
  // "a is a worse entry than b": lower score, or equal score and later.
  static bool Worse(const Entry& a, const Entry& b) { return a.score != b.score ? a.score < b.score : a.seq > b.seq; }
  void Recompute() {
    if (entries_.size() < k_) return;
    threshold_ = std::min_element(entries_.begin(), entries_.end(), Worse)->score;
  }
  size_t k_;
  uint64_t seq_ = 0;
  float threshold_ = -std::numeric_limits<float>::infinity();
  std::vector<Entry> entries_;
};

}  // namespace

// Float query . int8 code, in this fixed order (tests reproduce it bit for bit).
float DotFloatInt8(const float* q, const int8_t* code, size_t dim) {
  float s = 0;
  for (size_t j = 0; j < dim; ++j) s += q[j] * float(code[j]);
  return s;
}

namespace {

// Growable array of trivially copyable T in anonymous memory. Growth doubles the mapping with
// mremap(MREMAP_MAYMOVE): the kernel moves page-table entries, no bytes are copied, and
// capacity not yet written is address space only (never resident).
template <class T>
class MappedArray {
 public:
  MappedArray() = default;
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;
  ~MappedArray() {
    if (data_) munmap(data_, bytes_);
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

  void Reserve(size_t n) {
    const size_t need = n * sizeof(T);
    if (need <= bytes_) return;
    constexpr size_t kHuge = size_t(2) << 20;
    size_t nb = std::max({need, bytes_ * 2, size_t(16) << 10});
    nb = nb >= kHuge ? (nb + kHuge - 1) / kHuge * kHuge : (nb + 4095) / 4096 * 4096;
    void* p = data_ ? mremap(data_, bytes_, nb, MREMAP_MAYMOVE)
                    : mmap(nullptr, nb, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if (nb >= kHuge) madvise(p, nb, MADV_HUGEPAGE);  // fewer TLB misses on the scan
    data_ = static_cast<T*>(p);
    bytes_ = nb;
  }

 private:
  T* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace

// Grows v's capacity (geometrically) to at least n, so that pushing up to n elements in all
// cannot throw: the free lists are pushed on paths that must not fail half-way.
template <class V>
void MakeRoom(V& v, size_t n) {
  if (v.capacity() < n) v.reserve(std::max(n, 2 * v.capacity()));
}

struct Index::Account {
  mutable std::shared_mutex mu;
  size_t size = 0;
  MappedArray<int8_t> codes;     // size * stride
  MappedArray<float> scale;      // x ~= scale * code
  MappedArray<Id> ids;           // descriptor id of each row
  MappedArray<Id> persons;       // person of each row, nil when not attached
  MappedArray<uint32_t> next;    // next row of the same person (kNoRow ends the chain)

  // Descriptor id -> row. A slot holds only row + 1 (0 = empty); its key is ids[row].
  struct RowOps {
    const MappedArray<Id>* ids;
    uint64_t Hash(uint32_t slot) const { return HashId((*ids)[slot - 1]); }
    uint64_t Hash(const Id& id) const { return HashId(id); }
    bool Equal(uint32_t slot, const Id& id) const { return (*ids)[slot - 1] == id; }
  };
  FlatTable<uint32_t> row_of;
  RowOps row_ops() const { return {&ids}; }
  std::optional<uint32_t> RowOf(const Id& id) const {
    const uint32_t* s = row_of.Find(id, row_ops());
    return s ? std::optional<uint32_t>(*s - 1) : std::nullopt;
  }

  // Person -> its rows: the head of the chain through next[] (+1, 0 = empty) and their count.
  // The key is persons[head], so a slot is 8 bytes.
  struct Chain {
    uint32_t head1, count;
    uint32_t head() const { return head1 - 1; }
  };
  struct ChainOps {
    const MappedArray<Id>* persons;
    uint64_t Hash(const Chain& c) const { return HashId((*persons)[c.head()]); }
    uint64_t Hash(const Id& id) const { return HashId(id); }
    bool Equal(const Chain& c, const Id& id) const { return (*persons)[c.head()] == id; }
  };
  FlatTable<Chain> chains;
  ChainOps chain_ops() const { return {&persons}; }
  const Chain* ChainOf(const Id& person) const { return chains.Find(person, chain_ops()); }

  // Members of lists (descriptor ids in descriptors lists, person ids in persons lists; they
  // need not be indexed), numbered so that each list's set holds 4-byte numbers and the 16-byte
  // id is stored once however many lists hold it. A member exists while some list holds it;
  // numbers of forgotten members are reused.
  struct Member {
    Id id;
    uint32_t lists;  // the one list number holding it, or kMulti | i: the lists are multi[i]
  };
  static constexpr uint32_t kMulti = 1u << 31;
  MappedArray<Member> member_tab;
  uint32_t member_count = 0;  // member_tab rows in use or on free_members
  std::vector<uint32_t> free_members;
  std::vector<std::vector<uint32_t>> multi;
  std::vector<uint32_t> free_multi;
  // Member id -> number: a slot holds number + 1, its key is member_tab[number].id.
  struct MemberOps {
    const MappedArray<Member>* tab;
    uint64_t Hash(uint32_t slot) const { return HashId((*tab)[slot - 1].id); }
    uint64_t Hash(const Id& id) const { return HashId(id); }
    bool Equal(uint32_t slot, const Id& id) const { return (*tab)[slot - 1].id == id; }
  };
  FlatTable<uint32_t> member_num;
  MemberOps member_ops() const { return {&member_tab}; }
  std::optional<uint32_t> MemberOf(const Id& id) const {
    const uint32_t* s = member_num.Find(id, member_ops());
    return s ? std::optional<uint32_t>(*s - 1) : std::nullopt;
  }

  // A list's set of member numbers: a slot holds number + 1.
  struct NumberOps {
    uint64_t Hash(uint32_t slot) const { return slot; }  // FlatTable multiplies: spreads sequences
    bool Equal(uint32_t slot, uint32_t slot_key) const { return slot == slot_key; }
  };
  // Lists, numbered (numbers of dropped lists are reused); list_num maps ids to numbers (few
  // entries: a node map is fine).
  struct List {
    ListKind kind = ListKind::kDescriptors;
    FlatTable<uint32_t> members;
    bool Holds(uint32_t m) const { return members.Find(m + 1, NumberOps{}) != nullptr; }
    template <class Fn>
    void ForEachMember(Fn&& fn) const {
      members.ForEach([&](uint32_t slot) { fn(slot - 1); });
    }
  };
  std::unordered_map<Id, uint32_t, IdHash> list_num;
  std::vector<List> list_tab;
  std::vector<uint32_t> free_lists;
  List* FindList(const Id& id) {
    auto it = list_num.find(id);
    return it == list_num.end() ? nullptr : &list_tab[it->second];
  }
  const List* FindList(const Id& id) const { return const_cast<Account*>(this)->FindList(id); }
  // Is id a member of list l?
  bool InList(const List& l, const Id& id) const {
    const auto m = MemberOf(id);
    return m && l.Holds(*m);
  }

  // Adds id to list ln; false when it was there. Throws std::bad_alloc with nothing changed.
  bool AddMember(uint32_t ln, const Id& id) {
    FlatTable<uint32_t>& set = list_tab[ln].members;
    set.Reserve(set.size() + 1, NumberOps{});  // the set's Insert below cannot throw
    if (auto known = MemberOf(id)) {
      const uint32_t m = *known;
      if (set.Find(m + 1, NumberOps{})) return false;
      uint32_t& code = member_tab[m].lists;
      if (code & kMulti) {
        multi[code & ~kMulti].push_back(ln);
      } else {
        std::vector<uint32_t> both{code, ln};
        uint32_t i;
        if (!free_multi.empty()) {
          i = free_multi.back();
          multi[i] = std::move(both);
          free_multi.pop_back();
        } else {
          MakeRoom(free_multi, multi.size() + 1);  // DropMember/ForgetMember push without failing
          i = uint32_t(multi.size());
          multi.push_back(std::move(both));
        }
        code = kMulti | i;
      }
      set.Insert(m + 1, m + 1, NumberOps{});
      return true;
    }
    member_num.Reserve(member_num.size() + 1, member_ops());
    const bool reuse = !free_members.empty();
    if (!reuse) {
      if (member_count >= kMulti) throw std::bad_alloc();
      member_tab.Reserve(member_count + 1);
      MakeRoom(free_members, member_count + 1);  // DropMember/ForgetMember push without failing
    }
    const uint32_t m = reuse ? free_members.back() : member_count;
    member_tab[m] = Member{id, ln};
    if (reuse) free_members.pop_back(); else ++member_count;
    member_num.Insert(id, m + 1, member_ops());
    set.Insert(m + 1, m + 1, NumberOps{});
    return true;
  }
  // Member m leaves list ln (the caller has erased it from the list's set); forgotten when no
  // list holds it any more.
  void DropMember(uint32_t m, uint32_t ln) {
    uint32_t& code = member_tab[m].lists;
    if (code & kMulti) {
      const uint32_t i = code & ~kMulti;
      std::erase(multi[i], ln);
      if (multi[i].size() > 1) return;
      code = multi[i][0];
      multi[i] = {};
      free_multi.push_back(i);
      return;
    }
    member_num.Erase(member_tab[m].id, member_ops());
    free_members.push_back(m);
  }
  // Removes id from list ln; false when it was not there.
  bool RemoveMember(uint32_t ln, const Id& id) {
    const auto m = MemberOf(id);
    if (!m || !list_tab[ln].members.Erase(*m + 1, NumberOps{})) return false;
    DropMember(*m, ln);
    return true;
  }
  // id leaves every list (descriptor or person deleted).
  void ForgetMember(const Id& id) {
    uint32_t* slot = member_num.Find(id, member_ops());
    if (!slot) return;
    const uint32_t m = *slot - 1;
    member_num.Erase(slot, member_ops());
    uint32_t& code = member_tab[m].lists;
    if (code & kMulti) {
      const uint32_t i = code & ~kMulti;
      for (uint32_t ln : multi[i]) list_tab[ln].members.Erase(m + 1, NumberOps{});
      multi[i] = {};
      free_multi.push_back(i);
    } else {
      list_tab[code].members.Erase(m + 1, NumberOps{});
    }
    free_members.push_back(m);
  }

  void Link(uint32_t row, const Id& person) {
    persons[row] = person;
    auto [c, fresh] = chains.Insert(person, Chain{row + 1, 0}, chain_ops());
    next[row] = fresh ? kNoRow : c->head();
    c->head1 = row + 1;
    ++c->count;
  }
  void Unlink(uint32_t row) {
    const Id p = persons[row];
    if (p.IsNil()) return;
    Chain* c = chains.Find(p, chain_ops());
    if (--c->count == 0) {
      chains.Erase(c, chain_ops());  // hashes the slot by persons[row]: clear it afterwards
    } else if (c->head() == row) {
      c->head1 = next[row] + 1;
    } else {
      uint32_t r = c->head();
      while (next[r] != row) r = next[r];
      next[r] = next[row];
    }
    persons[row] = Id{};
    next[row] = kNoRow;
  }
  // Row `from` now lives at `to` (persons[to] == persons[from]): redirect the chain link that
  // pointed at it.
  void Relink(uint32_t from, uint32_t to) {
    const Id p = persons[to];
    if (p.IsNil()) return;
    Chain* c = chains.Find(p, chain_ops());
    if (c->head() == from) {
      c->head1 = to + 1;
      return;
    }
    uint32_t r = c->head();
    while (next[r] != from) r = next[r];
    next[r] = to;
  }
};

struct Index::Accounts {
  mutable std::shared_mutex mu;
  std::unordered_map<Id, std::shared_ptr<Account>, IdHash> map;
};

Index::Index(IndexOptions options)
    : dim_(options.dim),
      stride_((options.dim + 63) / 64 * 64),
      kernels_(options.kernels ? options.kernels : &ActiveKernels()),
      accounts_(std::make_unique<Accounts>()) {}

Index::~Index() = default;

std::shared_ptr<Index::Account> Index::Find(const Id& account) const {
  std::shared_lock lock(accounts_->mu);
  auto it = accounts_->map.find(account);
  return it == accounts_->map.end() ? nullptr : it->second;
}

std::shared_ptr<Index::Account> Index::FindOrCreate(const Id& account) {
  if (auto a = Find(account)) return a;
  std::unique_lock lock(accounts_->mu);
  auto& slot = accounts_->map[account];
  if (!slot) slot = std::make_shared<Account>();
  return slot;
}

core::Status Index::Add(const Id& account, const Id& descriptor, const std::optional<Id>& person,
                        std::span<const float> vector) {
  if (vector.size() != dim_)
    return core::MakeError(core::Errc::DescriptorFormat, {"size " + std::to_string(vector.size())});
  thread_local std::vector<float> unit;  // no allocation per Add (start-up loads millions)
  thread_local std::vector<int8_t> code;
  unit.resize(dim_);
  code.assign(stride_, 0);
  if (!Normalize(vector.data(), dim_, unit.data()))
    return core::MakeError(core::Errc::DescriptorFormat, {"zero or non-finite vector"});
  const float scale = QuantizeI8(unit.data(), dim_, code.data());

  auto acc = FindOrCreate(account);
  std::unique_lock lock(acc->mu);
  Account& a = *acc;
  try {
    a.chains.Reserve(a.chains.size() + 1, a.chain_ops());  // Link below cannot throw
  } catch (const std::bad_alloc&) {
    return core::InternalError("match index: out of memory");
  }
  uint32_t row;
  if (auto existing = a.RowOf(descriptor)) {
    row = *existing;
    a.Unlink(row);
  } else {
    if (a.size >= kNoRow) return core::InternalError("match index: account full");
    try {
      const size_t n = a.size + 1;
      a.codes.Reserve(n * stride_);
      a.scale.Reserve(n);
      a.ids.Reserve(n);
      a.persons.Reserve(n);
      a.next.Reserve(n);
      a.ids[a.size] = descriptor;  // the row_of slot finds its key here
      a.row_of.Insert(descriptor, uint32_t(a.size + 1), a.row_ops());
    } catch (const std::bad_alloc&) {
      return core::InternalError("match index: out of memory");
    }
    row = uint32_t(a.size++);
    a.persons[row] = Id{};
    a.next[row] = kNoRow;
  }
  std::memcpy(a.codes.data() + size_t(row) * stride_, code.data(), stride_);
  a.scale[row] = scale;
  if (person && !person->IsNil()) a.Link(row, *person);
  return {};
}

bool Index::Remove(const Id& account, const Id& descriptor) {
  auto acc = Find(account);
  if (!acc) return false;
  std::unique_lock lock(acc->mu);
  Account& a = *acc;
  a.ForgetMember(descriptor);  // also when not indexed: list entries made ahead of the Add
  uint32_t* slot = a.row_of.Find(descriptor, a.row_ops());
  if (!slot) return false;
  const uint32_t row = *slot - 1;
  a.row_of.Erase(slot, a.row_ops());
  a.Unlink(row);
  const uint32_t last = uint32_t(a.size - 1);
  if (row != last) {
    std::memcpy(a.codes.data() + size_t(row) * stride_, a.codes.data() + size_t(last) * stride_, stride_);
    a.scale[row] = a.scale[last];
    a.ids[row] = a.ids[last];
    a.persons[row] = a.persons[last];
    a.next[row] = a.next[last];
    a.Relink(last, row);
    *a.row_of.Find(a.ids[row], a.row_ops()) = row + 1;  // the slot still finds its key at ids[last]
  }
  --a.size;
  return true;
}

bool Index::SetPerson(const Id& account, const Id& descriptor, const std::optional<Id>& person) {
  auto acc = Find(account);
  if (!acc) return false;
  std::unique_lock lock(acc->mu);
  const auto row = acc->RowOf(descriptor);
  if (!row) return false;
  // Link cannot throw after this; if it throws, nothing has changed yet.
  if (person && !person->IsNil()) acc->chains.Reserve(acc->chains.size() + 1, acc->chain_ops());
  acc->Unlink(*row);
  if (person && !person->IsNil()) acc->Link(*row, *person);
  return true;
}

void Index::RemovePerson(const Id& account, const Id& person) {
  auto acc = Find(account);
  if (!acc) return;
  std::unique_lock lock(acc->mu);
  Account& a = *acc;
  if (auto* c = a.chains.Find(person, a.chain_ops())) {
    const uint32_t head = c->head();
    a.chains.Erase(c, a.chain_ops());  // before the rows forget their person (the slot's key)
    for (uint32_t r = head; r != kNoRow;) {
      const uint32_t nx = a.next[r];
      a.persons[r] = Id{};
      a.next[r] = kNoRow;
      r = nx;
    }
  }
  a.ForgetMember(person);
}

bool Index::CreateList(const Id& account, const Id& list, ListKind kind) {
  auto acc = FindOrCreate(account);
  std::unique_lock lock(acc->mu);
  Account& a = *acc;
  if (const Account::List* l = a.FindList(list)) return l->kind == kind;
  // Everything that can throw comes before the first change.
  const bool reuse = !a.free_lists.empty();
  const uint32_t ln = reuse ? a.free_lists.back() : uint32_t(a.list_tab.size());
  if (!reuse) {
    MakeRoom(a.list_tab, a.list_tab.size() + 1);
    MakeRoom(a.free_lists, a.list_tab.size() + 1);  // DropList pushes without failing
  }
  a.list_num.emplace(list, ln);
  if (reuse)
    a.free_lists.pop_back();
  else
    a.list_tab.emplace_back();
  a.list_tab[ln].kind = kind;
  return true;
}

bool Index::DropList(const Id& account, const Id& list) {
  auto acc = Find(account);
  if (!acc) return false;
  std::unique_lock lock(acc->mu);
  Account& a = *acc;
  auto it = a.list_num.find(list);
  if (it == a.list_num.end()) return false;
  const uint32_t ln = it->second;
  Account::List& l = a.list_tab[ln];
  l.ForEachMember([&](uint32_t m) { a.DropMember(m, ln); });
  l = Account::List{};
  a.free_lists.push_back(ln);
  a.list_num.erase(it);
  return true;
}

core::Status Index::AddToList(const Id& account, const Id& list, std::span<const Id> members) {
  auto acc = Find(account);
  if (!acc) return core::MakeError(core::Errc::ListNotFoundRef, {FormatId(list)});
  std::unique_lock lock(acc->mu);
  auto it = acc->list_num.find(list);
  if (it == acc->list_num.end()) return core::MakeError(core::Errc::ListNotFoundRef, {FormatId(list)});
  const uint32_t ln = it->second;
  try {
    for (const Id& m : members) acc->AddMember(ln, m);
  } catch (const std::bad_alloc&) {
    return core::InternalError("match index: out of memory");
  }
  return {};
}

core::Status Index::RemoveFromList(const Id& account, const Id& list, std::span<const Id> members) {
  auto acc = Find(account);
  if (!acc) return core::MakeError(core::Errc::ListNotFoundRef, {FormatId(list)});
  std::unique_lock lock(acc->mu);
  auto it = acc->list_num.find(list);
  if (it == acc->list_num.end()) return core::MakeError(core::Errc::ListNotFoundRef, {FormatId(list)});
  const uint32_t ln = it->second;
  for (const Id& m : members) acc->RemoveMember(ln, m);
  return {};
}

void Index::DropAccount(const Id& account) {
  std::shared_ptr<Account> dropped;  // destroyed after the table lock is released
  std::unique_lock lock(accounts_->mu);
  auto it = accounts_->map.find(account);
  if (it == accounts_->map.end()) return;
  dropped = std::move(it->second);
  accounts_->map.erase(it);
}

core::Result<std::vector<Candidate>> Index::Match(const Id& account, std::span<const float> query,
                                                  const Target& target, size_t k) const {
  if (query.size() != dim_)
    return core::MakeError(core::Errc::DescriptorFormat, {"size " + std::to_string(query.size())});
  std::vector<float> unit(dim_);
  if (!Normalize(query.data(), dim_, unit.data()))
    return core::MakeError(core::Errc::DescriptorFormat, {"zero or non-finite vector"});
  alignas(64) int8_t qstack[1024];
  std::vector<int8_t> qheap;
  int8_t* q = qstack;
  if (stride_ > sizeof qstack) {
    qheap.resize(stride_);
    q = qheap.data();
  }
  std::memset(q, 0, stride_);
  const float qscale = QuantizeI8(unit.data(), dim_, q);

  const bool is_list = target.kind == Target::Kind::kDescriptorsList || target.kind == Target::Kind::kPersonsList;
  auto acc = Find(account);
  if (!acc) {
    if (is_list) return core::MakeError(core::Errc::ListNotFoundRef, {FormatId(target.list)});
    return std::vector<Candidate>{};
  }
  std::shared_lock lock(acc->mu);
  const Account& a = *acc;
  const int8_t* codes = a.codes.data();
  const size_t stride = stride_;
  // Stage 1 keeps k + kRerankMargin by the int8 x int8 score; stage 2 re-scores those with the
  // float query against the stored codes, which removes the query's quantisation error.
  TopK<uint32_t> top(k == 0 ? 0 : k + kRerankMargin);
  int32_t dots[kChunkRows];
  const int8_t* ptrs[kChunkRows];

  // Scores of gathered rows, in chunks; fn(i, cosine) for each.
  auto score_rows = [&](const std::vector<uint32_t>& rows, auto&& fn) {
    for (size_t i = 0; i < rows.size(); i += kChunkRows) {
      const size_t n = std::min(kChunkRows, rows.size() - i);
      for (size_t j = 0; j < n; ++j) ptrs[j] = codes + size_t(rows[i + j]) * stride;
      kernels_->dot_i8_rows(q, ptrs, n, stride, dots);
      for (size_t j = 0; j < n; ++j) fn(i + j, float(dots[j]) * (qscale * a.scale[rows[i + j]]));
    }
  };

  const Account::List* list = nullptr;
  if (is_list) {
    list = a.FindList(target.list);
    if (!list) return core::MakeError(core::Errc::ListNotFoundRef, {FormatId(target.list)});
    const ListKind want =
        target.kind == Target::Kind::kDescriptorsList ? ListKind::kDescriptors : ListKind::kPersons;
    if (list->kind != want)
      return core::MakeError(core::Errc::WrongListType,
                             {want == ListKind::kDescriptors ? "descriptors" : "persons"});
  }

  // Every row in address order (the hardware prefetcher streams it at memory speed);
  // fn(row, score) for the rows scoring above threshold() only.
  auto scan_all = [&](auto&& threshold, auto&& fn) {
    for (size_t i = 0; i < a.size; i += kChunkRows) {
      const size_t n = std::min(kChunkRows, a.size - i);
      kernels_->dot_i8_strided(q, codes + i * stride, stride, n, stride, dots);
      const float* sc = a.scale.data() + i;
      for (size_t j = 0; j < n; ++j) {
        const float s = float(dots[j]) * (qscale * sc[j]);
        if (s > threshold()) fn(uint32_t(i + j), s);
      }
    }
  };
  // A list holding a large share of the account is scanned like the whole account, checking
  // membership only for the rows that would enter the top-k (few once it has filled).
  // Gathering its rows instead costs a hash lookup and a random access per member (~100 ns:
  // 0.1 s for a million, five times the scan).
  const bool dense = list && list->members.size() * kDenseShare >= a.size;

  if (dense && target.kind == Target::Kind::kDescriptorsList) {
    scan_all([&] { return top.Threshold(); },
             [&](uint32_t row, float s) {
               if (a.InList(*list, a.ids[row])) top.Push(s, row);
             });
  } else if (dense && target.kind == Target::Kind::kPersonsList) {
    DistinctPersonTop people(k == 0 ? 0 : k + kRerankMargin);
    scan_all([&] { return people.Threshold(); },
             [&](uint32_t row, float s) {
               const Id& p = a.persons[row];
               if (!p.IsNil() && a.InList(*list, p)) people.Push(s, row, p);
             });
    for (const auto& e : people.Take()) top.Push(e.score, e.row);
  } else switch (target.kind) {
    case Target::Kind::kAll:
      scan_all([&] { return top.Threshold(); }, [&](uint32_t row, float s) { top.Push(s, row); });
      break;
    case Target::Kind::kDescriptorsList:
    case Target::Kind::kDescriptorIds: {
      std::vector<uint32_t> rows;
      auto add = [&](const Id& id) {
        if (auto r = a.RowOf(id)) rows.push_back(*r);
      };
      if (list)
        list->ForEachMember([&](uint32_t m) { add(a.member_tab[m].id); });
      else
        for (const Id& id : target.ids) add(id);
      std::sort(rows.begin(), rows.end());  // ascending: memory order, and deterministic ties
      rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
      score_rows(rows, [&](size_t i, float s) {
        if (s > top.Threshold()) top.Push(s, rows[i]);
      });
      break;
    }
    case Target::Kind::kPersonsList:
    case Target::Kind::kPersonIds: {
      std::vector<Id> people;
      if (list)
        list->ForEachMember([&](uint32_t m) { people.push_back(a.member_tab[m].id); });
      else
        people = target.ids;
      std::sort(people.begin(), people.end());
      people.erase(std::unique(people.begin(), people.end()), people.end());
      // Rows grouped by person; each group sorted so ties go to the lower row.
      std::vector<uint32_t> rows, group_end;
      std::vector<std::pair<uint32_t, size_t>> order;  // (lowest row, group) to push in row order
      for (const Id& p : people) {
        const Account::Chain* c = a.ChainOf(p);
        if (!c) continue;
        const size_t begin = rows.size();
        for (uint32_t r = c->head(); r != kNoRow; r = a.next[r]) rows.push_back(r);
        std::sort(rows.begin() + long(begin), rows.end());
        order.push_back({rows[begin], group_end.size()});
        group_end.push_back(rows.size());
      }
      std::vector<float> scores(rows.size());
      score_rows(rows, [&](size_t i, float s) { scores[i] = s; });
      std::sort(order.begin(), order.end());
      for (const auto& [first_row, g] : order) {
        const size_t begin = g == 0 ? 0 : group_end[g - 1];
        size_t best = begin;
        for (size_t i = begin + 1; i < group_end[g]; ++i)
          if (scores[i] > scores[best]) best = i;
        if (scores[best] > top.Threshold()) top.Push(scores[best], rows[best]);
      }
      break;
    }
  }

  const bool per_person = target.kind == Target::Kind::kPersonsList || target.kind == Target::Kind::kPersonIds;
  auto exact = [&](uint32_t row) { return a.scale[row] * DotFloatInt8(unit.data(), codes + size_t(row) * stride, dim_); };
  TopK<uint32_t> final_top(k);
  for (const auto& e : top.Take()) {
    uint32_t best = e.payload;
    float best_s = exact(best);
    if (per_person) {  // the person's best descriptor by the exact score
      for (uint32_t r = a.ChainOf(a.persons[e.payload])->head(); r != kNoRow; r = a.next[r]) {
        const float s = exact(r);
        if (s > best_s || (s == best_s && r < best)) best = r, best_s = s;
      }
    }
    final_top.Push(best_s, best);
  }
  std::vector<Candidate> out;
  for (const auto& e : final_top.Take()) {
    Candidate c;
    c.descriptor_id = a.ids[e.payload];
    if (!a.persons[e.payload].IsNil()) c.person_id = a.persons[e.payload];
    c.cosine = std::clamp(e.score, -1.f, 1.f);
    out.push_back(c);
  }
  return out;
}

bool Index::Contains(const Id& account, const Id& descriptor) const {
  auto acc = Find(account);
  if (!acc) return false;
  std::shared_lock lock(acc->mu);
  return acc->RowOf(descriptor).has_value();
}

std::optional<std::optional<Id>> Index::PersonOf(const Id& account, const Id& descriptor) const {
  auto acc = Find(account);
  if (!acc) return std::nullopt;
  std::shared_lock lock(acc->mu);
  const auto row = acc->RowOf(descriptor);
  if (!row) return std::nullopt;
  const Id p = acc->persons[*row];
  return p.IsNil() ? std::optional<Id>{} : std::optional<Id>{p};
}

size_t Index::Size(const Id& account) const {
  auto acc = Find(account);
  if (!acc) return 0;
  std::shared_lock lock(acc->mu);
  return acc->size;
}

size_t Index::MemoryBytes(const Id& account) const {
  auto acc = Find(account);
  if (!acc) return 0;
  std::shared_lock lock(acc->mu);
  const Account& a = *acc;
  size_t b = a.size * (stride_ + sizeof(float) + 2 * sizeof(Id) + sizeof(uint32_t));
  b += a.row_of.bytes() + a.chains.bytes() + a.member_num.bytes();
  b += a.member_count * sizeof(Account::Member) + a.free_members.capacity() * sizeof(uint32_t);
  b += a.list_num.size() * 64 + a.list_tab.capacity() * sizeof(Account::List);
  b += (a.free_lists.capacity() + a.free_multi.capacity()) * sizeof(uint32_t);
  for (const auto& l : a.list_tab) b += l.members.bytes();
  b += a.multi.capacity() * sizeof(std::vector<uint32_t>);
  for (const auto& m : a.multi) b += m.capacity() * sizeof(uint32_t);
  return b;
}

core::Status Index::CheckConsistency(const Id& account) const {
  auto acc = Find(account);
  if (!acc) return {};
  std::shared_lock lock(acc->mu);
  const Account& a = *acc;
  auto fail = [](const std::string& what) { return core::InternalError("match index inconsistent: " + what); };
  // Rows and the id map.
  if (a.row_of.size() != a.size) return fail("row_of holds " + std::to_string(a.row_of.size()) + " ids for " + std::to_string(a.size) + " rows");
  size_t attached = 0;
  for (uint32_t r = 0; r < a.size; ++r) {
    if (a.RowOf(a.ids[r]) != r) return fail("row " + std::to_string(r) + " is not found by its id");
    if (!a.persons[r].IsNil()) ++attached;
  }
  // Person chains: every attached row on its person's chain, once.
  size_t chained = 0;
  std::string chain_error;
  a.chains.ForEach([&](const Account::Chain& c) {
    const Id p = a.persons[c.head()];
    uint32_t n = 0;
    for (uint32_t r = c.head(); r != kNoRow && n <= a.size; r = a.next[r], ++n)
      if (r >= a.size || a.persons[r] != p) chain_error = "chain of " + FormatId(p) + " leaves its person";
    if (n != c.count) chain_error = "chain of " + FormatId(p) + " has " + std::to_string(n) + " rows, counted " + std::to_string(c.count);
    chained += n;
  });
  if (!chain_error.empty()) return fail(chain_error);
  if (chained != attached) return fail(std::to_string(attached) + " attached rows, " + std::to_string(chained) + " on chains");
  // Lists: numbers, free numbers and the id map agree.
  if (a.list_num.size() + a.free_lists.size() != a.list_tab.size()) return fail("list numbers do not add up");
  for (const auto& [id, ln] : a.list_num)
    if (ln >= a.list_tab.size() || std::count(a.free_lists.begin(), a.free_lists.end(), ln))
      return fail("list " + FormatId(id) + " has a free or unknown number");
  // Members: live or free, never both; each member's lists hold it and only those.
  if (a.member_num.size() + a.free_members.size() != a.member_count) return fail("member numbers do not add up");
  std::vector<uint8_t> state(a.member_count, 0);  // 1 free, 2 live
  for (uint32_t m : a.free_members) {
    if (m >= a.member_count || state[m]) return fail("member number " + std::to_string(m) + " freed twice");
    state[m] = 1;
  }
  std::vector<uint8_t> multi_used(a.multi.size(), 0);
  for (uint32_t i : a.free_multi) {
    if (i >= a.multi.size() || multi_used[i] || !a.multi[i].empty()) return fail("bad free overflow list");
    multi_used[i] = 1;
  }
  std::vector<size_t> expected(a.list_tab.size(), 0);
  for (uint32_t m = 0; m < a.member_count; ++m) {
    if (state[m]) continue;
    if (a.MemberOf(a.member_tab[m].id) != m) return fail("member number " + std::to_string(m) + " neither live nor free");
    state[m] = 2;
    const uint32_t code = a.member_tab[m].lists;
    std::vector<uint32_t> lists{code};
    if (code & Account::kMulti) {
      const uint32_t i = code & ~Account::kMulti;
      if (i >= a.multi.size() || multi_used[i]) return fail("overflow list shared or free");
      multi_used[i] = 1;
      lists = a.multi[i];
      if (lists.size() < 2) return fail("overflow list with fewer than two lists");
    }
    for (uint32_t ln : lists) {
      if (ln >= a.list_tab.size() || !a.list_tab[ln].Holds(m)) return fail("member " + FormatId(a.member_tab[m].id) + " missing from a list of it");
      ++expected[ln];
    }
  }
  for (size_t ln = 0; ln < a.list_tab.size(); ++ln)
    if (a.list_tab[ln].members.size() != expected[ln]) return fail("list number " + std::to_string(ln) + " holds members that do not name it");
  return {};
}

}  // namespace match
