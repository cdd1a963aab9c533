#pragma once
// Descriptor lifetime (API.md §6): deletes descriptors that have been unlinked (no person,
// no list) for longer than descriptor_ttl, with their portrait files. Runs in a background
// thread every gc_interval and on demand (`faceport gc`). The store deletes the rows in one
// transaction that only takes descriptors unlinked at commit time; files go after the
// commit, so a crash between the two leaves orphan files, removed at the next start-up.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "core/result.hpp"
#include "store/portraits.hpp"
#include "store/store.hpp"

namespace app {

class DescriptorCollector {
 public:
  DescriptorCollector(store::Store& store, store::PortraitStore& portraits, int64_t ttl_ms);
  ~DescriptorCollector();
  // One pass; returns how many descriptors were deleted.
  core::Result<int> RunOnce();
  // Background passes every interval_ms until Stop() (or destruction).
  void Start(int64_t interval_ms);
  void Stop();

 private:
  store::Store& store_;
  store::PortraitStore& portraits_;
  int64_t ttl_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace app
