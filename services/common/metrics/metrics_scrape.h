// Test support: the body of http://127.0.0.1:<port>/metrics, as Prometheus would read it.
#ifndef MARKETDATA_SERVICES_COMMON_METRICS_SCRAPE_H_
#define MARKETDATA_SERVICES_COMMON_METRICS_SCRAPE_H_

#include <string>

namespace marketdata {

// Empty when nothing answers.
std::string ScrapeMetrics(int port);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_METRICS_SCRAPE_H_
