// Process metrics under the standard Prometheus names (process_cpu_seconds_total, ...), read from
// /proc/self when scraped, as the Go and Java clients export them.
#ifndef MARKETDATA_SERVICES_COMMON_METRICS_PROCESS_METRICS_H_
#define MARKETDATA_SERVICES_COMMON_METRICS_PROCESS_METRICS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/metrics/metrics.h"

namespace marketdata {

struct ProcessStats {
  double cpu_seconds = 0;         // user + system
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  // Unix time
  double open_fds = 0;
  double max_fds = 0;             // the soft limit
};

// The fields of /proc/<pid>/stat (`stat`) that ProcessStats holds, given the clock ticks a second,
// the page size and the boot time (btime of /proc/stat). INVALID_ARGUMENT when malformed.
absl::Status ParseProcStat(absl::string_view stat, double ticks_per_second, double page_size,
                           double boot_time_seconds, ProcessStats* stats);
// btime of /proc/stat's text.
absl::StatusOr<double> ParseBootTime(absl::string_view proc_stat);

// This process, from `proc` (normally "/proc").
absl::StatusOr<ProcessStats> ReadProcessStats(const std::string& proc = "/proc");

// Registers process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds and
// process_max_fds; a metric that cannot be read is left out of that scrape.
void ExportProcessMetrics(MetricsExporter& metrics);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_METRICS_PROCESS_METRICS_H_
