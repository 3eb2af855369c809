#include "services/common/build_info.h"

#include <curl/curl.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string Scrape(int port) {
  std::string body;
  CURL* curl = curl_easy_init();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  return body;
}

TEST(BuildInfoTest, OneSeriesOfValueOneNamingServiceVersionAndRevision) {
  // Built without MDS_BUILD_REVISION.
  EXPECT_EQ(BuildRevision(), "unknown");
  const int port = 20000 + static_cast<int>((getpid() + 13) % 20000);
  auto exporter = MetricsExporter::Start("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  ExportBuildInfo(**exporter, "mds-api");
  const std::string body = Scrape(port);
  EXPECT_NE(body.find("# TYPE mds_build_info gauge"), std::string::npos) << body;
  EXPECT_NE(body.find(std::string("mds_build_info{revision=\"unknown\",service=\"mds-api\","
                                  "version=\"") +
                      kVersion + "\"} 1"),
            std::string::npos)
      << body;
}

}  // namespace
}  // namespace marketdata
