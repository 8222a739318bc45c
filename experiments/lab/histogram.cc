#include "experiments/lab/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace lab {

namespace {
constexpr size_t half_bucket = size_t{1} << (latency_histogram::sub_bucket_bits - 1);
constexpr uint64_t max_trackable = (uint64_t{1} << latency_histogram::max_value_bits) - 1;
constexpr size_t bucket_count =
    (latency_histogram::max_value_bits - latency_histogram::sub_bucket_bits + 1) * half_bucket + half_bucket;
}  // namespace

latency_histogram::latency_histogram() : counts_(bucket_count, 0) {}

size_t latency_histogram::index_of(uint64_t v) {
  v = std::min(v, max_trackable);
  const int msb = 63 - std::countl_zero(v | 1);
  // Below 2^sub_bucket_bits every value has its own slot; above, each power of two is split
  // into half_bucket equal slots, so a slot is never wider than 1/half_bucket of its value.
  const int shift = std::max(0, msb - (sub_bucket_bits - 1));
  return (static_cast<size_t>(shift) * half_bucket) + static_cast<size_t>(v >> shift);
}

uint64_t latency_histogram::bucket_low(size_t index) {
  if (index < 2 * half_bucket) return index;
  const size_t shift = index / half_bucket - 1;
  return static_cast<uint64_t>(index - shift * half_bucket) << shift;
}

uint64_t latency_histogram::bucket_high(size_t index) {
  if (index < 2 * half_bucket) return index;
  const size_t shift = index / half_bucket - 1;
  return bucket_low(index) + (uint64_t{1} << shift) - 1;
}

void latency_histogram::merge(const latency_histogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

void latency_histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

double latency_histogram::percentile_ns(double q) const {
  if (count_ == 0) return 0;
  if (q >= 1) return static_cast<double>(max_);
  const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const double mid = (static_cast<double>(bucket_low(i)) + static_cast<double>(bucket_high(i))) / 2;
      return std::clamp(mid, static_cast<double>(min_), static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

}  // namespace lab
