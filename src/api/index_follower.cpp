#include "api/index_follower.hpp"

#include <malloc.h>

#include <chrono>
#include <deque>

#include "core/log.hpp"

namespace api {
using core::Errc;

namespace {
std::optional<match::Id> Parse(const std::string& s) { return match::ParseId(s); }
}  // namespace

IndexFollower::IndexFollower(store::Store& store, IndexFollowerOptions options)
    : store_(store), opt_(options), index_(std::make_shared<match::Index>(match::IndexOptions{options.dim, nullptr})) {}

IndexFollower::~IndexFollower() { Stop(); }

std::shared_ptr<const match::Index> IndexFollower::index() const {
  std::lock_guard lk(index_mu_);
  return index_;
}

core::Status IndexFollower::Load() {
  std::lock_guard lk(apply_mu_);
  return LoadLocked();
}

namespace {

// One row of the snapshot, parsed: a descriptor (with its person and descriptors lists) or a
// persons-list membership (id = the list, person = the member).
struct LoadItem {
  bool person_link = false;
  match::Id account, id;
  std::optional<match::Id> person;
  std::vector<float> values;
  std::vector<match::Id> lists;
};

// Hands batches of LoadItems from the thread reading the snapshot to the thread filling the
// index (bounded: the reader waits when kMaxBatches are queued).
class LoadQueue {
 public:
  static constexpr size_t kBatch = 512, kMaxBatches = 8;
  void Push(std::vector<LoadItem> batch) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return q_.size() < kMaxBatches; });
    q_.push_back(std::move(batch));
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard lk(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  // False when closed and drained.
  bool Pop(std::vector<LoadItem>& out) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return false;
    out = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<LoadItem>> q_;
  bool closed_ = false;
};

}  // namespace

core::Status IndexFollower::LoadLocked() {
  const auto t0 = std::chrono::steady_clock::now();
  auto fresh = std::make_shared<match::Index>(match::IndexOptions{opt_.dim, nullptr});
  int64_t descriptors = 0, skipped = 0, person_links = 0;
  // Two threads: this one reads the snapshot (SQLite, decoding, parsing ids), the other one
  // fills the index (normalise, quantise, hash maps) in snapshot order. Each side is about
  // half of the work, so on two cores a million descriptors load in about half the time.
  LoadQueue queue;
  std::thread filler([&] {
    std::vector<LoadItem> batch;
    while (queue.Pop(batch)) {
      for (auto& it : batch) {
        if (it.person_link) {
          fresh->CreateList(it.account, it.id, match::ListKind::kPersons);
          (void)fresh->AddToList(it.account, it.id, std::span<const match::Id>(&*it.person, 1));
          ++person_links;
          continue;
        }
        if (!fresh->Add(it.account, it.id, it.person, it.values)) {
          ++skipped;  // wrong length / zero vector: never matchable
          continue;
        }
        ++descriptors;
        for (const auto& l : it.lists) {
          fresh->CreateList(it.account, l, match::ListKind::kDescriptors);
          (void)fresh->AddToList(it.account, l, std::span<const match::Id>(&it.id, 1));
        }
      }
    }
  });
  std::vector<LoadItem> batch;
  batch.reserve(LoadQueue::kBatch);
  auto push = [&](LoadItem&& item) {
    batch.push_back(std::move(item));
    if (batch.size() == LoadQueue::kBatch) {
      queue.Push(std::move(batch));
      batch = {};
      batch.reserve(LoadQueue::kBatch);
    }
  };
  auto seq = store_.Snapshot(
      [&](const store::Descriptor& d) {
        auto acc = Parse(d.account_id), id = Parse(d.id);
        if (!acc || !id) return true;
        LoadItem it;
        it.account = *acc;
        it.id = *id;
        if (d.person_id) it.person = Parse(*d.person_id);
        it.values = d.values;
        for (const auto& l : d.lists)
          if (auto list = Parse(l)) it.lists.push_back(*list);
        push(std::move(it));
        return true;
      },
      [&](const std::string& account, const std::string& list_id, const std::string& person_id) {
        auto acc = Parse(account), list = Parse(list_id), person = Parse(person_id);
        if (!acc || !list || !person) return true;
        LoadItem it;
        it.person_link = true;
        it.account = *acc;
        it.id = *list;
        it.person = *person;
        push(std::move(it));
        return true;
      });
  if (!batch.empty()) queue.Push(std::move(batch));
  queue.Close();
  filler.join();
  // The load's batches went through both threads' malloc arenas (tens of MB for a million
  // descriptors): hand the free pages back to the kernel instead of keeping them resident.
  malloc_trim(0);
  if (!seq) return std::move(seq).error();
  {
    std::lock_guard lk(index_mu_);
    index_ = std::move(fresh);
  }
  applied_.store(*seq);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  core::Log(core::LogLevel::Info, "index_loaded",
            {{"descriptors", descriptors},
             {"skipped", skipped},
             {"persons_list_links", person_links},
             {"seq", *seq},
             {"ms", static_cast<int64_t>(ms)}});
  return {};
}

core::Status IndexFollower::ApplyLocked(const store::Change& c, match::Index& index) {
  auto acc = Parse(c.account_id);
  if (!acc) return {};
  auto desc = c.descriptor_id.empty() ? std::nullopt : Parse(c.descriptor_id);
  auto person = c.person_id.empty() ? std::nullopt : Parse(c.person_id);
  auto list = c.list_id.empty() ? std::nullopt : Parse(c.list_id);
  using K = store::ChangeKind;
  switch (c.kind) {
    case K::DescriptorAdded:
      // values absent: the descriptor is gone already; its DescriptorRemoved follows.
      if (desc && c.values) {
        if (auto st = index.Add(*acc, *desc, std::nullopt, *c.values); !st)
          core::Log(core::LogLevel::Warn, "index_descriptor_skipped",
                    {{"descriptor_id", c.descriptor_id}, {"seq", c.seq}});
      }
      break;
    case K::DescriptorRemoved:
      if (desc) index.Remove(*acc, *desc);
      break;
    case K::DescriptorPersonSet:
      if (desc) index.SetPerson(*acc, *desc, person);
      break;
    case K::ListMemberAdded:
      if (!list) break;
      // Lists have no "created" row: the first member creates the list in the index.
      if (desc) {
        index.CreateList(*acc, *list, match::ListKind::kDescriptors);
        (void)index.AddToList(*acc, *list, std::span<const match::Id>(&*desc, 1));
      } else if (person) {
        index.CreateList(*acc, *list, match::ListKind::kPersons);
        (void)index.AddToList(*acc, *list, std::span<const match::Id>(&*person, 1));
      }
      break;
    case K::ListMemberRemoved:
      if (!list) break;
      if (desc) (void)index.RemoveFromList(*acc, *list, std::span<const match::Id>(&*desc, 1));
      else if (person) (void)index.RemoveFromList(*acc, *list, std::span<const match::Id>(&*person, 1));
      break;
    case K::PersonRemoved:
      if (person) index.RemovePerson(*acc, *person);
      break;
    case K::ListRemoved:
      if (list) index.DropList(*acc, *list);
      break;
  }
  return {};
}

core::Status IndexFollower::CatchUp() {
  const uint64_t ticket = passes_begun_.load();
  std::lock_guard lk(apply_mu_);
  // A pass that began reading after we arrived has applied everything we must see.
  if (last_completed_pass_ > ticket) return {};
  const uint64_t pass = passes_begun_.fetch_add(1) + 1;
  std::shared_ptr<match::Index> index;
  {
    std::lock_guard ilk(index_mu_);
    index = index_;
  }
  for (;;) {
    auto rows = store_.ChangesSince(applied_.load(), opt_.batch);
    if (!rows) {
      auto pruned = store_.PrunedChangeSeq();
      if (pruned && *pruned > applied_.load()) {
        core::Log(core::LogLevel::Warn, "index_reload",
                  {{"applied_seq", applied_.load()}, {"pruned_seq", *pruned}});
        reloads_.fetch_add(1);
        if (auto st = LoadLocked(); !st) return st;
        std::lock_guard ilk(index_mu_);
        index = index_;
        continue;
      }
      return std::move(rows).error();
    }
    for (const auto& c : *rows) {
      (void)ApplyLocked(c, *index);
      applied_.store(c.seq);
    }
    if (static_cast<int>(rows->size()) < opt_.batch) break;
  }
  last_completed_pass_ = pass;
  return {};
}

core::Status IndexFollower::Prune() {
  const int64_t up_to = applied_.load() - opt_.keep;
  if (up_to <= 0) return {};
  auto pruned = store_.PrunedChangeSeq();
  if (!pruned) return std::move(pruned).error();
  if (*pruned >= up_to) return {};
  return store_.PruneChanges(up_to);
}

void IndexFollower::Start(int64_t interval_ms) {
  {
    std::lock_guard lk(bg_mu_);
    stop_ = false;
    woken_ = false;
  }
  // Notices coalesce: a burst of commits sets woken_ once per pass.
  auto listener = store_.ListenForChanges([this] {
    {
      std::lock_guard lk(bg_mu_);
      woken_ = true;
    }
    bg_cv_.notify_all();
  });
  if (!listener)
    core::Log(core::LogLevel::Warn, "change_listener_failed", {{"detail", listener.error().log_detail}});
  else
    listener_ = std::move(*listener);
  thread_ = std::thread([this, interval_ms] {
    std::unique_lock lk(bg_mu_);
    while (!stop_) {
      if (bg_cv_.wait_for(lk, std::chrono::milliseconds(interval_ms), [this] { return stop_ || woken_; }) && stop_)
        break;
      woken_ = false;
      lk.unlock();
      if (auto st = CatchUp(); !st)
        core::Log(core::LogLevel::Error, "index_catchup_failed", {{"detail", st.error().log_detail}});
      else if (auto p = Prune(); !p)
        core::Log(core::LogLevel::Error, "change_feed_prune_failed", {{"detail", p.error().log_detail}});
      lk.lock();
    }
  });
}

void IndexFollower::Stop() {
  {
    std::lock_guard lk(bg_mu_);
    stop_ = true;
  }
  bg_cv_.notify_all();
  listener_.reset();  // joins the listening thread: no wake after this
  if (thread_.joinable()) thread_.join();
}

}  // namespace api
