#pragma once
// IndexFollower: keeps a match::Index in step with the store through the store's change feed
// (store.hpp, "the follower contract"). Load() fills a fresh index from Store::Snapshot and
// remembers the snapshot's seq; CatchUp() applies ChangesSince(applied) in seq order, in
// batches, until the feed is exhausted. One thread applies at a time (a mutex); a CatchUp
// whose caller arrives while another pass is running waits for it and, when that pass began
// reading after the caller arrived, returns without reading again (its writes are in).
//
// Read-your-writes: matching requests call CatchUp() before they query, so every write
// acknowledged before the request started is visible to it. A background thread (Start)
// calls CatchUp every interval so other nodes' writes arrive too, and prunes the change feed
// up to applied - keep rows. Where the store delivers change notices across nodes
// (Store::ListenForChanges: PostgreSQL LISTEN/NOTIFY), a notice wakes that thread at once, so
// another node's write reaches this index within about one round trip instead of up to one
// interval; the periodic pass stays, so a lost notice delays a change by at most one
// interval and never loses it (the feed, not the notice, carries the change). When the feed says our position was pruned (another node pruned
// past us), the index is rebuilt from a new snapshot and swapped in atomically: queries that
// hold the old index (index()) finish on it.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "core/result.hpp"
#include "match/index.hpp"
#include "store/store.hpp"

namespace api {

struct IndexFollowerOptions {
  size_t dim = 512;                 // descriptor length of the model (engine descriptor_size)
  int batch = 10000;                // rows per ChangesSince call
  int64_t keep = 100000;            // change rows kept behind the applied position when pruning
};

class IndexFollower {
 public:
  IndexFollower(store::Store& store, IndexFollowerOptions options = {});
  ~IndexFollower();
  IndexFollower(const IndexFollower&) = delete;
  IndexFollower& operator=(const IndexFollower&) = delete;

  // Builds the index from a snapshot (start-up, and after the position was pruned). Logs the
  // descriptor count and the time taken.
  core::Status Load();
  // Applies every change committed before the call (at least). Thread-safe.
  core::Status CatchUp();
  // Deletes change rows older than applied - keep (housekeeping; single node).
  core::Status Prune();
  // The current index (keeps it alive while a query runs, even across a reload).
  std::shared_ptr<const match::Index> index() const;
  int64_t applied_seq() const { return applied_.load(); }
  int64_t reloads() const { return reloads_.load(); }

  // Background CatchUp + Prune every interval_ms, and at once after a change notice, until
  // Stop() (or destruction).
  void Start(int64_t interval_ms);
  // Background passes run so far (tests and benchmarks).
  void Stop();

 private:
  core::Status LoadLocked();
  core::Status ApplyLocked(const store::Change& c, match::Index& index);

  store::Store& store_;
  IndexFollowerOptions opt_;
  std::mutex apply_mu_;                      // one applier at a time
  mutable std::mutex index_mu_;              // guards index_ (the pointer, not the index)
  std::shared_ptr<match::Index> index_;
  std::atomic<int64_t> applied_{0};
  std::atomic<uint64_t> passes_begun_{0};
  uint64_t last_completed_pass_ = 0;         // under apply_mu_
  std::atomic<int64_t> reloads_{0};

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stop_ = false;
  bool woken_ = false;                       // a change notice arrived (under bg_mu_)
  std::unique_ptr<store::ChangeListener> listener_;
  std::thread thread_;
};

}  // namespace api
