#pragma once
// Top-k collector, kept apart from scoring: the scan produces scores, this keeps the k best.
// Ties: the earlier pushed entry wins (equal to a stable descending sort of the pushes).
// Threshold() lets the scan skip the push for scores that cannot enter.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace match {

template <class Payload>
class TopK {
 public:
  struct Entry {
    float score;
    uint64_t seq;  // push order, for ties
    Payload payload;
  };

  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }

  size_t k() const { return k_; }
  size_t size() const { return heap_.size(); }
  // A score must be greater than this to enter (−inf until k entries are held).
  float Threshold() const {
    return heap_.size() < k_ || k_ == 0 ? (k_ == 0 ? std::numeric_limits<float>::infinity()
                                                    : -std::numeric_limits<float>::infinity())
                                        : heap_.front().score;
  }

  void Push(float score, const Payload& p) {
    const uint64_t seq = seq_++;
    if (k_ == 0) return;
    if (heap_.size() < k_) {
      heap_.push_back({score, seq, p});
      std::push_heap(heap_.begin(), heap_.end(), Better);
    } else if (score > heap_.front().score) {
      std::pop_heap(heap_.begin(), heap_.end(), Better);
      heap_.back() = {score, seq, p};
      std::push_heap(heap_.begin(), heap_.end(), Better);
    }
  }

  // The kept entries, best first; leaves the collector empty.
  std::vector<Entry> Take() {
    std::vector<Entry> out = std::move(heap_);
    heap_.clear();
    std::sort(out.begin(), out.end(), Better);
    return out;
  }

 private:
  // std's heap keeps at front() an element no other is "less" than; with "less" = "better"
  // that is the entry to evict first: the lowest score, and among equals the latest.
  static bool Better(const Entry& a, const Entry& b) { return a.score != b.score ? a.score > b.score : a.seq < b.seq; }
  size_t k_;
  uint64_t seq_ = 0;
  std::vector<Entry> heap_;
};

}  // namespace match
