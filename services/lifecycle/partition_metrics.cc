#include "services/lifecycle/partition_metrics.h"

namespace marketdata {

void ExportPartitionMetrics(MetricsExporter& metrics, const PartitionMaintainer& maintainer) {
  using Kind = MetricsExporter::Kind;
  const auto per_table = [&maintainer](auto value) {
    return [&maintainer, value] {
      std::vector<MetricSample> out;
      for (const auto& [table, s] : maintainer.stats().tables) {
        if (s.ahead >= 0) out.push_back({{{"table", table}}, value(s)});
      }
      return out;
    };
  };
  using TableStats = PartitionMaintainer::TableStats;
  metrics.AddLabeled(Kind::kGauge, "mds_partitions_ahead",
                     "Time partitions made after the one the current time falls in; writes fail "
                     "once the last one is reached.",
                     per_table([](const TableStats& s) { return static_cast<double>(s.ahead); }));
  metrics.AddLabeled(Kind::kCounter, "mds_partitions_created_total",
                     "Time partitions this process made.",
                     per_table([](const TableStats& s) { return static_cast<double>(s.created); }));
  metrics.AddLabeled(Kind::kCounter, "mds_partitions_dropped_total",
                     "Time partitions this process removed, past their table's retention.",
                     per_table([](const TableStats& s) { return static_cast<double>(s.dropped); }));
  metrics.AddLabeled(Kind::kGauge, "mds_partitions_held_for_outbox",
                     "Partitions past their retention kept at the last run because the outbox "
                     "still holds a price in them (its event not yet taken by the broker).",
                     per_table([](const TableStats& s) { return static_cast<double>(s.held); }));
  metrics.AddLabeled(Kind::kGauge, "mds_partition_maintenance_last_success_timestamp_seconds",
                     "When this process last completed partition maintenance (one replica at a "
                     "time does; absent on the others).",
                     [&maintainer] {
                       std::vector<MetricSample> out;
                       const absl::Time t = maintainer.stats().last_success;
                       if (t > absl::InfinitePast()) out.push_back({{}, absl::ToUnixMicros(t) / 1e6});
                       return out;
                     });
  metrics.Add(Kind::kCounter, "mds_partition_maintenance_failures_total",
              "Partition maintenance runs that failed.",
              [&maintainer] { return static_cast<double>(maintainer.stats().failures); });
  metrics.Add(Kind::kCounter, "mds_partition_drop_retries_total",
              "Detach and drop statements tried again because their lock was taken (each waits "
              "200 ms at most, so writers never queue behind them).",
              [&maintainer] { return static_cast<double>(maintainer.stats().drop_retries); });
}

}  // namespace marketdata
