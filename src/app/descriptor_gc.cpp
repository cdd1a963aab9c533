#include "app/descriptor_gc.hpp"

#include "core/clock.hpp"
#include "core/log.hpp"

namespace app {

DescriptorCollector::DescriptorCollector(store::Store& store, store::PortraitStore& portraits, int64_t ttl_ms)
    : store_(store), portraits_(portraits), ttl_ms_(ttl_ms) {}

DescriptorCollector::~DescriptorCollector() { Stop(); }

core::Result<int> DescriptorCollector::RunOnce() {
  auto gone = store_.CollectUnlinkedDescriptors(core::NowMillis(), ttl_ms_);
  if (!gone) return std::move(gone).error();
  for (const auto& d : *gone) {
    if (!d.has_portrait) continue;
    if (auto st = portraits_.Remove(d.id); !st)
      core::Log(core::LogLevel::Warn, "gc_portrait_remove_failed", {{"descriptor_id", d.id}, {"detail", st.error().log_detail}});
  }
  if (!gone->empty())
    core::Log(core::LogLevel::Info, "descriptor_gc", {{"deleted", gone->size()}, {"ttl_ms", ttl_ms_}});
  return static_cast<int>(gone->size());
}

void DescriptorCollector::Start(int64_t interval_ms) {
  thread_ = std::thread([this, interval_ms] {
    std::unique_lock lk(mu_);
    while (!stop_) {
      if (cv_.wait_for(lk, std::chrono::milliseconds(interval_ms), [this] { return stop_; })) break;
      lk.unlock();
      if (auto r = RunOnce(); !r)
        core::Log(core::LogLevel::Error, "descriptor_gc_failed", {{"detail", r.error().log_detail}});
      lk.lock();
    }
  });
}

void DescriptorCollector::Stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace app
