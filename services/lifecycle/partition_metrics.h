// The time partitions' metrics: how many are ready ahead of each table's writes, and whether
// maintenance keeps up (an alert fires before the partitions made ahead run out).
#ifndef MARKETDATA_SERVICES_LIFECYCLE_PARTITION_METRICS_H_
#define MARKETDATA_SERVICES_LIFECYCLE_PARTITION_METRICS_H_

#include "services/common/metrics/metrics.h"
#include "services/lifecycle/partition_maintainer.h"

namespace marketdata {

// `maintainer` must outlive `metrics`.
void ExportPartitionMetrics(MetricsExporter& metrics, const PartitionMaintainer& maintainer);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_LIFECYCLE_PARTITION_METRICS_H_
