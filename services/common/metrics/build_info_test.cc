#include "services/common/metrics/build_info.h"

#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "services/common/metrics/metrics_scrape.h"

namespace marketdata {
namespace {

TEST(BuildInfoTest, OneSeriesOfValueOneNamingServiceVersionAndRevision) {
  // Built without MDS_BUILD_REVISION.
  EXPECT_EQ(BuildRevision(), "unknown");
  const int port = 20000 + static_cast<int>((getpid() + 13) % 20000);
  auto exporter = MetricsExporter::Start("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  ExportBuildInfo(**exporter, "mds-api");
  const std::string body = ScrapeMetrics(port);
  EXPECT_NE(body.find("# TYPE mds_build_info gauge"), std::string::npos) << body;
  EXPECT_NE(body.find(std::string("mds_build_info{revision=\"unknown\",service=\"mds-api\","
                                  "version=\"") +
                      kVersion + "\"} 1"),
            std::string::npos)
      << body;
}

}  // namespace
}  // namespace marketdata
