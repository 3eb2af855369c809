#include "services/storage/database_metrics.h"

#include <algorithm>
#include <vector>

namespace marketdata {

void ExportDatabasePoolMetrics(MetricsExporter& metrics, const Database& db) {
  using Kind = MetricsExporter::Kind;
  metrics.AddLabeled(Kind::kGauge, "mds_db_pool_connections",
                     "PostgreSQL sessions of the pool, by state: in_use (leased for a unit of "
                     "work) or idle.",
                     [&db] {
                       const Database::PoolStats s = db.pool_stats();
                       const size_t in_use = std::min(s.in_use, s.size);
                       return std::vector<MetricSample>{
                           {{{"state", "in_use"}}, static_cast<double>(in_use)},
                           {{{"state", "idle"}}, static_cast<double>(s.size - in_use)}};
                     });
  metrics.Add(Kind::kGauge, "mds_db_pool_size", "PostgreSQL sessions the pool holds.",
              [&db] { return static_cast<double>(db.pool_stats().size); });
  metrics.Add(Kind::kCounter, "mds_db_pool_waits_total",
              "Session acquisitions that found every session busy and had to wait.",
              [&db] { return static_cast<double>(db.pool_stats().waits); });
  metrics.Add(Kind::kCounter, "mds_db_pool_wait_seconds_total",
              "Time spent waiting for a free session, summed over those acquisitions.",
              [&db] { return db.pool_stats().wait_seconds; });
}

}  // namespace marketdata
