// Histogram: counts of observations in fixed buckets, for Prometheus histograms. Observe() is
// lock-free (a few relaxed atomic adds, no allocation), so hot paths may call it on every request;
// Snapshot() is for the scrape.
#ifndef MARKETDATA_SERVICES_COMMON_METRICS_HISTOGRAM_H_
#define MARKETDATA_SERVICES_COMMON_METRICS_HISTOGRAM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace marketdata {

// What a scrape reads: cumulative counts per upper bound, +Inf last (its count equals `count`).
struct HistogramSnapshot {
  std::vector<double> upper_bounds;        // ascending, ending with +Inf
  std::vector<uint64_t> cumulative_counts;  // one per upper bound
  double sum = 0;
  uint64_t count = 0;
};

class Histogram {
 public:
  // `upper_bounds` ascending, without +Inf (added here).
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double value);
  // Taken while others observe: each count is exact, though the sum and counts may be a few
  // observations apart.
  HistogramSnapshot Snapshot() const;

 private:
  const std::vector<double> bounds_;  // finite bounds
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; +Inf last
  std::atomic<double> sum_{0};
};

// Bounds for request latencies, in seconds: from 0.5 ms (a price served from memory) to 10 s
// (a provider call with retries).
std::vector<double> LatencyBuckets();

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_METRICS_HISTOGRAM_H_
