// The metrics of a Database's session pool: how many sessions are leased, and how often and how
// long callers waited for one (a pool that is too small shows here before it fails calls).
#ifndef MARKETDATA_SERVICES_STORAGE_DATABASE_METRICS_H_
#define MARKETDATA_SERVICES_STORAGE_DATABASE_METRICS_H_

#include "services/common/metrics/metrics.h"
#include "services/storage/database.h"

namespace marketdata {

// mds_db_pool_connections{state="in_use"|"idle"}, mds_db_pool_size, mds_db_pool_waits_total and
// mds_db_pool_wait_seconds_total of the pool on DATABASE_URL, and, when `read_pool` is given (the
// pool on DATABASE_READ_URL), the same series of it with the label pool="read". `db` and
// `read_pool` must outlive `metrics`.
void ExportDatabasePoolMetrics(MetricsExporter& metrics, const Database& db,
                               const Database* read_pool = nullptr);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_DATABASE_METRICS_H_
