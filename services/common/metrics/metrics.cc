#include "services/common/metrics/metrics.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/metric_family.h"

namespace marketdata {

class MetricsExporter::Families final : public prometheus::Collectable {
 public:
  struct Family {
    Kind kind;
    std::string name, help;
    std::function<std::vector<MetricSample>()> read;             // counters and gauges
    std::function<std::vector<HistogramSample>()> read_histograms;  // histograms
  };

  void Add(Family family) {
    absl::MutexLock lock(&mu_);
    families_.push_back(std::move(family));
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    absl::MutexLock lock(&mu_);
    std::vector<prometheus::MetricFamily> out;
    for (const Family& f : families_) {
      prometheus::MetricFamily family;
      family.name = f.name;
      family.help = f.help;
      if (f.read_histograms) {
        family.type = prometheus::MetricType::Histogram;
        for (HistogramSample& sample : f.read_histograms()) {
          prometheus::ClientMetric metric;
          for (const auto& [name, value] : sample.labels) metric.label.push_back({name, value});
          metric.histogram.sample_count = sample.snapshot.count;
          metric.histogram.sample_sum = sample.snapshot.sum;
          const HistogramSnapshot& s = sample.snapshot;
          for (size_t i = 0; i < s.upper_bounds.size(); ++i) {
            metric.histogram.bucket.push_back({s.cumulative_counts[i], s.upper_bounds[i]});
          }
          family.metric.push_back(std::move(metric));
        }
        out.push_back(std::move(family));
        continue;
      }
      family.type = f.kind == Kind::kCounter ? prometheus::MetricType::Counter
                                             : prometheus::MetricType::Gauge;
      for (const MetricSample& sample : f.read()) {
        prometheus::ClientMetric metric;
        for (const auto& [name, value] : sample.labels) metric.label.push_back({name, value});
        if (f.kind == Kind::kCounter) {
          metric.counter.value = sample.value;
        } else {
          metric.gauge.value = sample.value;
        }
        family.metric.push_back(std::move(metric));
      }
      out.push_back(std::move(family));
    }
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Family> families_;
};

MetricsExporter::MetricsExporter() : families_(std::make_shared<Families>()) {}
MetricsExporter::~MetricsExporter() = default;

absl::StatusOr<std::unique_ptr<MetricsExporter>> MetricsExporter::Start(
    const std::string& address) {
  std::unique_ptr<MetricsExporter> exporter(new MetricsExporter());
  try {
    exporter->exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  exporter->exposer_->RegisterCollectable(exporter->families_);
  return exporter;
}

void MetricsExporter::Add(Kind kind, std::string name, std::string help,
                          std::function<double()> read) {
  AddLabeled(kind, std::move(name), std::move(help), [read = std::move(read)] {
    return std::vector<MetricSample>{MetricSample{{}, read()}};
  });
}

void MetricsExporter::AddLabeled(Kind kind, std::string name, std::string help,
                                 std::function<std::vector<MetricSample>()> read) {
  families_->Add(Families::Family{kind, std::move(name), std::move(help), std::move(read), {}});
}

void MetricsExporter::AddHistograms(std::string name, std::string help,
                                    std::function<std::vector<HistogramSample>()> read) {
  families_->Add(
      Families::Family{Kind::kCounter, std::move(name), std::move(help), {}, std::move(read)});
}

void MetricsExporter::AddHistogram(std::string name, std::string help,
                                   const Histogram& histogram) {
  AddHistograms(std::move(name), std::move(help), [&histogram] {
    return std::vector<HistogramSample>{HistogramSample{{}, histogram.Snapshot()}};
  });
}

}  // namespace marketdata
