#include "services/common/metrics/metrics.h"

#include <atomic>

#include "gtest/gtest.h"
#include "services/common/metrics/metrics_scrape.h"

namespace marketdata {
namespace {

TEST(MetricsExporterTest, ServesValuesReadAtScrapeTime) {
  // Port 0 is not supported by the exposer: pick one unlikely to be taken.
  const int port = 20000 + static_cast<int>(getpid() % 20000);
  auto exporter = MetricsExporter::Start("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  std::atomic<int> events{3};
  (*exporter)->Add(MetricsExporter::Kind::kCounter, "mds_test_events_total", "Events.",
                   [&] { return events.load(); });
  (*exporter)->AddLabeled(MetricsExporter::Kind::kGauge, "mds_test_tokens", "Tokens.", [] {
    return std::vector<MetricSample>{{{{"provider", "finnhub"}}, 7.5}};
  });
  std::string body = ScrapeMetrics(port);
  EXPECT_NE(body.find("mds_test_events_total 3"), std::string::npos) << body;
  EXPECT_NE(body.find("mds_test_tokens{provider=\"finnhub\"} 7.5"), std::string::npos) << body;
  events = 10;
  EXPECT_NE(ScrapeMetrics(port).find("mds_test_events_total 10"), std::string::npos);
}

TEST(MetricsExporterTest, ServesHistogramsWithCumulativeBuckets) {
  Histogram latency({0.1, 1});
  const int port = 20000 + static_cast<int>((getpid() + 7) % 20000);
  auto exporter = MetricsExporter::Start("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  (*exporter)->AddHistogram("mds_test_seconds", "Latency.", latency);
  latency.Observe(0.05);
  latency.Observe(0.5);
  const std::string body = ScrapeMetrics(port);
  EXPECT_NE(body.find("# TYPE mds_test_seconds histogram"), std::string::npos) << body;
  EXPECT_NE(body.find("mds_test_seconds_bucket{le=\"0.1\"} 1"), std::string::npos) << body;
  EXPECT_NE(body.find("mds_test_seconds_bucket{le=\"1\"} 2"), std::string::npos) << body;
  EXPECT_NE(body.find("mds_test_seconds_bucket{le=\"+Inf\"} 2"), std::string::npos) << body;
  EXPECT_NE(body.find("mds_test_seconds_count 2"), std::string::npos) << body;
  EXPECT_NE(body.find("mds_test_seconds_sum 0.55"), std::string::npos) << body;
}

TEST(MetricsExporterTest, UnusableAddressIsAnError) {
  EXPECT_FALSE(MetricsExporter::Start("256.1.1.1:1").ok());
}

}  // namespace
}  // namespace marketdata
