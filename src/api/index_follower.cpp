#include "api/index_follower.hpp"

#include <chrono>

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

core::Status IndexFollower::LoadLocked() {
  const auto t0 = std::chrono::steady_clock::now();
  auto fresh = std::make_shared<match::Index>(match::IndexOptions{opt_.dim, nullptr});
  int64_t descriptors = 0, skipped = 0, person_links = 0;
  auto seq = store_.Snapshot(
      [&](const store::Descriptor& d) {
        auto acc = Parse(d.account_id), id = Parse(d.id);
        if (!acc || !id) return true;
        std::optional<match::Id> person;
        if (d.person_id) person = Parse(*d.person_id);
        if (!fresh->Add(*acc, *id, person, d.values)) {
          ++skipped;  // wrong length / zero vector: never matchable
          return true;
        }
        ++descriptors;
        for (const auto& l : d.lists) {
          auto list = Parse(l);
          if (!list) continue;
          fresh->CreateList(*acc, *list, match::ListKind::kDescriptors);
          (void)fresh->AddToList(*acc, *list, std::span<const match::Id>(&*id, 1));
        }
        return true;
      },
      [&](const std::string& account, const std::string& list_id, const std::string& person_id) {
        auto acc = Parse(account), list = Parse(list_id), person = Parse(person_id);
        if (!acc || !list || !person) return true;
        fresh->CreateList(*acc, *list, match::ListKind::kPersons);
        (void)fresh->AddToList(*acc, *list, std::span<const match::Id>(&*person, 1));
        ++person_links;
        return true;
      });
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
      bg_passes_.fetch_add(1);
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
