// MetricsExporter: Prometheus metrics on http://<address>/metrics. Values are read when scraped,
// from counters the parts already keep, so no hot path pays for bookkeeping of its own.
#ifndef MARKETDATA_SERVICES_COMMON_METRICS_METRICS_H_
#define MARKETDATA_SERVICES_COMMON_METRICS_METRICS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/metrics/histogram.h"

namespace prometheus {
class Exposer;
}

namespace marketdata {

struct MetricSample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct HistogramSample {
  std::map<std::string, std::string> labels;
  HistogramSnapshot snapshot;
};

class MetricsExporter {
 public:
  enum class Kind { kCounter, kGauge };

  // Serves on `address` (host:port). An address that cannot be bound is UNAVAILABLE.
  static absl::StatusOr<std::unique_ptr<MetricsExporter>> Start(const std::string& address);
  ~MetricsExporter();

  // Register before the first scrape; `read` runs on the exporter's thread.
  void Add(Kind kind, std::string name, std::string help, std::function<double()> read);
  void AddLabeled(Kind kind, std::string name, std::string help,
                  std::function<std::vector<MetricSample>()> read);
  // A histogram family; `read` returns one snapshot per label set (none: the family is empty).
  void AddHistograms(std::string name, std::string help,
                     std::function<std::vector<HistogramSample>()> read);
  // One histogram without labels; `histogram` must outlive the exporter.
  void AddHistogram(std::string name, std::string help, const Histogram& histogram);

 private:
  class Families;
  MetricsExporter();

  std::shared_ptr<Families> families_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_METRICS_METRICS_H_
