#include "services/storage/database_metrics.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace marketdata {
namespace {

// One sample per pool: the primary's without a label (as before there was a read pool), the read
// pool's with pool="read".
std::function<std::vector<MetricSample>()> PerPool(
    const Database& db, const Database* read_pool,
    std::function<double(const Database::PoolStats&)> value) {
  return [&db, read_pool, value = std::move(value)] {
    std::vector<MetricSample> samples{{{}, value(db.pool_stats())}};
    if (read_pool != nullptr) {
      samples.push_back({{{"pool", "read"}}, value(read_pool->pool_stats())});
    }
    return samples;
  };
}

}  // namespace

void ExportDatabasePoolMetrics(MetricsExporter& metrics, const Database& db,
                               const Database* read_pool) {
  using Kind = MetricsExporter::Kind;
  metrics.AddLabeled(Kind::kGauge, "mds_db_pool_connections",
                     "PostgreSQL sessions of the pool, by state: in_use (leased for a unit of "
                     "work) or idle; pool=\"read\": the pool on DATABASE_READ_URL.",
                     [&db, read_pool] {
                       std::vector<MetricSample> samples;
                       auto add = [&samples](const Database& pool,
                                             std::map<std::string, std::string> labels) {
                         const Database::PoolStats s = pool.pool_stats();
                         const size_t in_use = std::min(s.in_use, s.size);
                         labels["state"] = "in_use";
                         samples.push_back({labels, static_cast<double>(in_use)});
                         labels["state"] = "idle";
                         samples.push_back({labels, static_cast<double>(s.size - in_use)});
                       };
                       add(db, {});
                       if (read_pool != nullptr) add(*read_pool, {{"pool", "read"}});
                       return samples;
                     });
  metrics.AddLabeled(Kind::kGauge, "mds_db_pool_size",
                     "PostgreSQL sessions the pool holds; pool=\"read\": the pool on "
                     "DATABASE_READ_URL.",
                     PerPool(db, read_pool, [](const Database::PoolStats& s) {
                       return static_cast<double>(s.size);
                     }));
  metrics.AddLabeled(Kind::kCounter, "mds_db_pool_waits_total",
                     "Session acquisitions that found every session busy and had to wait.",
                     PerPool(db, read_pool, [](const Database::PoolStats& s) {
                       return static_cast<double>(s.waits);
                     }));
  metrics.AddLabeled(Kind::kCounter, "mds_db_pool_wait_seconds_total",
                     "Time spent waiting for a free session, summed over those acquisitions.",
                     PerPool(db, read_pool,
                             [](const Database::PoolStats& s) { return s.wait_seconds; }));
}

}  // namespace marketdata
