#include "services/common/metrics/build_info.h"

#include <vector>

namespace marketdata {

std::string BuildRevision() {
#ifdef MDS_BUILD_REVISION
  return MDS_BUILD_REVISION;
#else
  return "unknown";
#endif
}

void ExportBuildInfo(MetricsExporter& metrics, const std::string& service) {
  std::vector<MetricSample> info = {
      {{{"service", service}, {"version", kVersion}, {"revision", BuildRevision()}}, 1}};
  metrics.AddLabeled(MetricsExporter::Kind::kGauge, "mds_build_info",
                     "Always 1; the labels say which build of which service runs.",
                     [info] { return info; });
}

}  // namespace marketdata
