#pragma once
// match::Index: the in-memory descriptor index of every account, for exact brute-force top-k.
// No HTTP, JSON or storage in here: the api layer calls the write methods right after (or
// inside) the matching store write, and the query methods to answer matching requests.
//
// Layout (per account, see index.cpp): one contiguous array of int8 codes (row stride = dim
// rounded up to 64 bytes, zero padded) plus parallel arrays of per-row scale, descriptor id,
// person id and person chain link; all grow in place with mremap, so growing never copies and
// unused capacity is only reserved address space. Flat hash tables (flat_table.hpp) whose
// slots are row or member numbers: descriptor id -> row, person -> the head of a chain of its
// rows, list member id -> member number, and per list a set of member numbers. Removal moves
// the last row into the hole, so the scan always reads [0, size) without gaps. About 560 bytes
// per 512-d descriptor, ~600 with a person each in a persons list (docs/BENCHMARKS.md).
//
// Similarity: the cosine of the L2-normalised vectors (inputs are normalised on the way in).
// The scan scores int8 query x int8 codes (exact integer kernels, kernels.hpp); the best
// k + 16 are then re-scored with the float query against the stored codes, so the returned
// cosine carries only the stored side's quantisation error (LFW: max 0.003, accuracy -0.02
// points; docs/BENCHMARKS.md). The API maps it to 0..1 with face::SimilarityFromCosine.
//
// Thread-safety contract:
//  - Every method may be called from any thread at any time.
//  - Queries (Match, Contains, Size, PersonOf) take the account's lock shared: they run
//    concurrently with each other. Writes take it exclusively.
//  - Each call is atomic: a query sees the account either before or after any write, never in
//    between. A write that has returned is visible to every query that starts afterwards, and a
//    removed descriptor is never returned by a query that starts after Remove returned.
//  - Accounts are independent: writes to one never block queries of another (the account table
//    itself is only locked exclusively to create or drop an account).
//  - Keeping the index in step with the store is the caller's job: apply the same change to the
//    index after the store transaction commits, in the same order as the store writes.
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/result.hpp"
#include "match/id.hpp"
#include "match/kernels.hpp"

namespace match {

enum class ListKind : uint8_t { kDescriptors, kPersons };

// What a query matches against.
struct Target {
  enum class Kind : uint8_t {
    kAll,              // every descriptor of the account (one result per descriptor)
    kDescriptorsList,  // the descriptors of a descriptors list (one result per descriptor)
    kPersonsList,      // the descriptors of the persons of a persons list (one result per person)
    kDescriptorIds,    // an explicit descriptor id set (one result per descriptor)
    kPersonIds,        // an explicit person id set (one result per person)
  };
  Kind kind = Kind::kAll;
  Id list;               // for the list kinds
  std::vector<Id> ids;   // for the id-set kinds (duplicates and unknown ids are ignored)

  static Target All() { return {}; }
  static Target DescriptorsList(const Id& l) { return {Kind::kDescriptorsList, l, {}}; }
  static Target PersonsList(const Id& l) { return {Kind::kPersonsList, l, {}}; }
  static Target DescriptorIds(std::vector<Id> ids) { return {Kind::kDescriptorIds, {}, std::move(ids)}; }
  static Target PersonIds(std::vector<Id> ids) { return {Kind::kPersonIds, {}, std::move(ids)}; }
};

struct Candidate {
  Id descriptor_id;               // for person results: the person's best descriptor
  std::optional<Id> person_id;    // the person the descriptor is attached to, if any
  float cosine = 0;               // in [-1, 1] up to quantisation error (~1e-3)
};

struct IndexOptions {
  size_t dim = 512;
  const Kernels* kernels = nullptr;  // nullptr: ActiveKernels() (CPUID); tests/benchmarks pick others
};

class Index {
 public:
  explicit Index(IndexOptions options = {});
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  size_t dim() const { return dim_; }
  const Kernels& kernels() const { return *kernels_; }

  // ---- writes (exclusive per account) ----
  // Out of memory: Add returns an error and AddToList one (keeping the members it added
  // before the failure); the other writes throw std::bad_alloc. No write leaves a half-done
  // change: each member, row or list is either fully in or not at all.
  // Adds a descriptor, or replaces its vector and person when the id is already present.
  // Errors: DescriptorFormat when vector.size() != dim() or the vector is zero / not finite.
  core::Status Add(const Id& account, const Id& descriptor, const std::optional<Id>& person,
                   std::span<const float> vector);
  // Removes a descriptor and its list memberships (those too when the descriptor itself is not
  // indexed); false when it was not there.
  bool Remove(const Id& account, const Id& descriptor);
  // Attaches (person) or detaches (nullopt) a descriptor; false when the descriptor is unknown.
  bool SetPerson(const Id& account, const Id& descriptor, const std::optional<Id>& person);
  // Person deleted: its descriptors are detached (not removed) and it leaves every persons list.
  void RemovePerson(const Id& account, const Id& person);
  // Creates an empty list (no-op when it exists with this kind; false when with the other kind).
  bool CreateList(const Id& account, const Id& list, ListKind kind);
  // Drops a list and its memberships; false when unknown.
  bool DropList(const Id& account, const Id& list);
  // List membership: descriptors lists hold descriptor ids, persons lists person ids. Members
  // need not be in the index (yet): they are resolved at query time. Error: ListNotFoundRef.
  core::Status AddToList(const Id& account, const Id& list, std::span<const Id> members);
  core::Status RemoveFromList(const Id& account, const Id& list, std::span<const Id> members);
  // Forgets everything of an account.
  void DropAccount(const Id& account);

  // ---- queries (shared per account) ----
  // The k most similar candidates of target, best first (ties: lower row first). Errors:
  // DescriptorFormat (query size/zero/non-finite), ListNotFoundRef (unknown list),
  // WrongListType (args: the expected kind, "descriptors" | "persons").
  core::Result<std::vector<Candidate>> Match(const Id& account, std::span<const float> query, const Target& target,
                                             size_t k) const;
  bool Contains(const Id& account, const Id& descriptor) const;
  // nullopt: descriptor unknown; otherwise its person (nullopt inside: not attached).
  std::optional<std::optional<Id>> PersonOf(const Id& account, const Id& descriptor) const;
  size_t Size(const Id& account) const;
  // Bytes held for the account (codes, per-row arrays, hash maps, lists), for benchmarks.
  size_t MemoryBytes(const Id& account) const;
  // Checks the account's bookkeeping (id map, person chains, list and member numbers, free
  // lists) against itself; O(size + members). For tests and debugging; an error names the
  // first inconsistency found.
  core::Status CheckConsistency(const Id& account) const;

  struct Account;

 private:
  std::shared_ptr<Account> Find(const Id& account) const;
  std::shared_ptr<Account> FindOrCreate(const Id& account);

  size_t dim_, stride_;
  const Kernels* kernels_;
  struct Accounts;
  std::unique_ptr<Accounts> accounts_;
};

}  // namespace match
