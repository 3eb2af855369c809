// What a binary was built from, for mds_build_info. The version is kVersion (the gateway carries
// the same in gateway/internal/gateway/build_info.go); the revision is the Git commit when the
// build passes one, "unknown" otherwise. Passing it recompiles this one file:
//   bazel build '--per_file_copt=services/common/metrics/build_info.cc@-DMDS_BUILD_REVISION="<sha>"' ...
#ifndef MARKETDATA_SERVICES_COMMON_METRICS_BUILD_INFO_H_
#define MARKETDATA_SERVICES_COMMON_METRICS_BUILD_INFO_H_

#include <string>

#include "services/common/metrics/metrics.h"

namespace marketdata {

inline constexpr char kVersion[] = "1.0.0";

// The commit the binary was built from, or "unknown".
std::string BuildRevision();

// mds_build_info{service,version,revision} 1.
void ExportBuildInfo(MetricsExporter& metrics, const std::string& service);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_METRICS_BUILD_INFO_H_
