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
#include <unordered_set>

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

// Rough heap cost of an unordered container node holding V (libstdc++: next pointer + value,
// rounded to the malloc chunk) plus its share of the bucket array.
template <class Map>
size_t HashBytes(const Map& m, size_t value_bytes) {
  const size_t node = (8 + value_bytes + 8 + 15) / 16 * 16;
  return m.size() * node + m.bucket_count() * sizeof(void*);
}

}  // namespace

struct Index::Account {
  mutable std::shared_mutex mu;
  size_t size = 0;
  MappedArray<int8_t> codes;     // size * stride
  MappedArray<float> scale;      // x ~= scale * code
  MappedArray<Id> ids;           // descriptor id of each row
  MappedArray<Id> persons;       // person of each row, nil when not attached
  MappedArray<uint32_t> next;    // next row of the same person (kNoRow ends the chain)
  std::unordered_map<Id, uint32_t, IdHash> row_of;
  struct Chain {
    uint32_t head, count;
  };
  std::unordered_map<Id, Chain, IdHash> chains;  // person -> its rows
  struct List {
    ListKind kind;
    std::unordered_set<Id, IdHash> members;
  };
  std::unordered_map<Id, List, IdHash> lists;
  std::unordered_map<Id, std::vector<Id>, IdHash> member_of;  // member -> lists holding it

  void Link(uint32_t row, const Id& person) {
    auto [it, fresh] = chains.try_emplace(person, Chain{kNoRow, 0});
    persons[row] = person;
    next[row] = it->second.head;
    it->second.head = row;
    ++it->second.count;
  }
  void Unlink(uint32_t row) {
    const Id p = persons[row];
    if (p.IsNil()) return;
    auto it = chains.find(p);
    Chain& c = it->second;
    if (c.head == row) {
      c.head = next[row];
    } else {
      uint32_t r = c.head;
      while (next[r] != row) r = next[r];
      next[r] = next[row];
    }
    if (--c.count == 0) chains.erase(it);
    persons[row] = Id{};
    next[row] = kNoRow;
  }
  // Row `from` now lives at `to`: redirect the chain link that pointed at it.
  void Relink(uint32_t from, uint32_t to) {
    const Id p = persons[to];
    if (p.IsNil()) return;
    Chain& c = chains.find(p)->second;
    if (c.head == from) {
      c.head = to;
      return;
    }
    uint32_t r = c.head;
    while (next[r] != from) r = next[r];
    next[r] = to;
  }
  void ForgetMember(const Id& member) {
    auto it = member_of.find(member);
    if (it == member_of.end()) return;
    for (const Id& l : it->second) {
      auto li = lists.find(l);
      if (li != lists.end()) li->second.members.erase(member);
    }
    member_of.erase(it);
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
  uint32_t row;
  auto it = a.row_of.find(descriptor);
  if (it != a.row_of.end()) {
    row = it->second;
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
      a.row_of.emplace(descriptor, uint32_t(a.size));
    } catch (const std::bad_alloc&) {
      return core::InternalError("match index: out of memory");
    }
    row = uint32_t(a.size++);
    a.ids[row] = descriptor;
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
  auto it = a.row_of.find(descriptor);
  if (it == a.row_of.end()) return false;
  const uint32_t row = it->second;
  a.row_of.erase(it);
  a.Unlink(row);
  const uint32_t last = uint32_t(a.size - 1);
  if (row != last) {
    std::memcpy(a.codes.data() + size_t(row) * stride_, a.codes.data() + size_t(last) * stride_, stride_);
    a.scale[row] = a.scale[last];
    a.ids[row] = a.ids[last];
    a.persons[row] = a.persons[last];
    a.next[row] = a.next[last];
    a.Relink(last, row);
    a.row_of[a.ids[row]] = row;
  }
  --a.size;
  return true;
}

bool Index::SetPerson(const Id& account, const Id& descriptor, const std::optional<Id>& person) {
  auto acc = Find(account);
  if (!acc) return false;
  std::unique_lock lock(acc->mu);
  auto it = acc->row_of.find(descriptor);
  if (it == acc->row_of.end()) return false;
  acc->Unlink(it->second);
  if (person && !person->IsNil()) acc->Link(it->second, *person);
  return true;
}

void Index::RemovePerson(const Id& account, const Id& person) {
  auto acc = Find(account);
  if (!acc) return;
  std::unique_lock lock(acc->mu);
  Account& a = *acc;
  auto it = a.chains.find(person);
  if (it != a.chains.end()) {
    for (uint32_t r = it->second.head; r != kNoRow;) {
      const uint32_t nx = a.next[r];
      a.persons[r] = Id{};
      a.next[r] = kNoRow;
      r = nx;
    }
    a.chains.erase(it);
  }
  a.ForgetMember(person);
}

bool Index::CreateList(const Id& account, const Id& list, ListKind kind) {
  auto acc = FindOrCreate(account);
  std::unique_lock lock(acc->mu);
  auto [it, fresh] = acc->lists.try_emplace(list, Account::List{kind, {}});
  return fresh || it->second.kind == kind;
}

bool Index::DropList(const Id& account, const Id& list) {
  auto acc = Find(account);
  if (!acc) return false;
  std::unique_lock lock(acc->mu);
  Account& a = *acc;
  auto it = a.lists.find(list);
  if (it == a.lists.end()) return false;
  for (const Id& m : it->second.members) {
    auto mo = a.member_of.find(m);
    if (mo == a.member_of.end()) continue;
    std::erase(mo->second, list);
    if (mo->second.empty()) a.member_of.erase(mo);
  }
  a.lists.erase(it);
  return true;
}

core::Status Index::AddToList(const Id& account, const Id& list, std::span<const Id> members) {
  auto acc = Find(account);
  if (!acc) return core::MakeError(core::Errc::ListNotFoundRef, {FormatId(list)});
  std::unique_lock lock(acc->mu);
  auto it = acc->lists.find(list);
  if (it == acc->lists.end()) return core::MakeError(core::Errc::ListNotFoundRef, {FormatId(list)});
  for (const Id& m : members)
    if (it->second.members.insert(m).second) acc->member_of[m].push_back(list);
  return {};
}

core::Status Index::RemoveFromList(const Id& account, const Id& list, std::span<const Id> members) {
  auto acc = Find(account);
  if (!acc) return core::MakeError(core::Errc::ListNotFoundRef, {FormatId(list)});
  std::unique_lock lock(acc->mu);
  auto it = acc->lists.find(list);
  if (it == acc->lists.end()) return core::MakeError(core::Errc::ListNotFoundRef, {FormatId(list)});
  for (const Id& m : members) {
    if (!it->second.members.erase(m)) continue;
    auto mo = acc->member_of.find(m);
    if (mo == acc->member_of.end()) continue;
    std::erase(mo->second, list);
    if (mo->second.empty()) acc->member_of.erase(mo);
  }
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
    auto it = a.lists.find(target.list);
    if (it == a.lists.end()) return core::MakeError(core::Errc::ListNotFoundRef, {FormatId(target.list)});
    const ListKind want =
        target.kind == Target::Kind::kDescriptorsList ? ListKind::kDescriptors : ListKind::kPersons;
    if (it->second.kind != want)
      return core::MakeError(core::Errc::WrongListType,
                             {want == ListKind::kDescriptors ? "descriptors" : "persons"});
    list = &it->second;
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
               if (list->members.count(a.ids[row])) top.Push(s, row);
             });
  } else if (dense && target.kind == Target::Kind::kPersonsList) {
    DistinctPersonTop people(k == 0 ? 0 : k + kRerankMargin);
    scan_all([&] { return people.Threshold(); },
             [&](uint32_t row, float s) {
               const Id& p = a.persons[row];
               if (!p.IsNil() && list->members.count(p)) people.Push(s, row, p);
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
        auto it = a.row_of.find(id);
        if (it != a.row_of.end()) rows.push_back(it->second);
      };
      if (list)
        for (const Id& id : list->members) add(id);
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
        people.assign(list->members.begin(), list->members.end());
      else
        people = target.ids;
      std::sort(people.begin(), people.end());
      people.erase(std::unique(people.begin(), people.end()), people.end());
      // Rows grouped by person; each group sorted so ties go to the lower row.
      std::vector<uint32_t> rows, group_end;
      std::vector<std::pair<uint32_t, size_t>> order;  // (lowest row, group) to push in row order
      for (const Id& p : people) {
        auto it = a.chains.find(p);
        if (it == a.chains.end()) continue;
        const size_t begin = rows.size();
        for (uint32_t r = it->second.head; r != kNoRow; r = a.next[r]) rows.push_back(r);
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
      for (uint32_t r = a.chains.find(a.persons[e.payload])->second.head; r != kNoRow; r = a.next[r]) {
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
  return acc->row_of.count(descriptor) != 0;
}

std::optional<std::optional<Id>> Index::PersonOf(const Id& account, const Id& descriptor) const {
  auto acc = Find(account);
  if (!acc) return std::nullopt;
  std::shared_lock lock(acc->mu);
  auto it = acc->row_of.find(descriptor);
  if (it == acc->row_of.end()) return std::nullopt;
  const Id p = acc->persons[it->second];
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
  b += HashBytes(a.row_of, sizeof(Id) + sizeof(uint32_t));
  b += HashBytes(a.chains, sizeof(Id) + sizeof(Account::Chain));
  for (const auto& [id, l] : a.lists) b += 64 + HashBytes(l.members, sizeof(Id));
  b += HashBytes(a.member_of, sizeof(Id) + 24) + a.member_of.size() * 32;
  return b;
}

}  // namespace match
