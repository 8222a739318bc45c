#pragma once
// HDR-style latency histogram for `kairo-lab bench`: log-linear buckets over nanoseconds, so every
// sample is kept (counted) and any percentile is within 1/256 of the true value (bucket
// midpoints; the bucket width is at most 1/128 of its lower bound). Values below 256 ns are
// exact; values above ~73 minutes are clamped into the top bucket (max stays exact).
//
// Thread-safety: none. One writer per histogram (a producer's poller thread); the bench guards
// the histograms it shares with the progress reporter with a mutex and merges at the end.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lab {

class latency_histogram {
 public:
  latency_histogram();

  void record(uint64_t value_ns) {
    ++counts_[index_of(value_ns)];
    ++count_;
    sum_ += value_ns;
    if (value_ns > max_) max_ = value_ns;
    if (value_ns < min_) min_ = value_ns;
  }
  void merge(const latency_histogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t max_ns() const { return count_ ? max_ : 0; }
  uint64_t min_ns() const { return count_ ? min_ : 0; }
  double mean_ns() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
  // The value below which a fraction q (0..1) of the samples lie; 0 when empty. q >= 1 gives max.
  double percentile_ns(double q) const;

  // Exposed for tests: the bucket a value falls in and that bucket's [low, high] bounds.
  static size_t index_of(uint64_t value_ns);
  static uint64_t bucket_low(size_t index);
  static uint64_t bucket_high(size_t index);

  static constexpr int sub_bucket_bits = 8;  // 256 linear slots per power of two (half used above 256)
  static constexpr int max_value_bits = 42;  // 2^42 ns ~ 73 min

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;  // ns; 2^64 ns is 584 years of summed latency, enough
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace lab
