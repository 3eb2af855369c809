// How long each kind of data is kept, and how the tables that hold it are cut in time.
#ifndef MARKETDATA_SERVICES_LIFECYCLE_LIFECYCLE_SETTINGS_H_
#define MARKETDATA_SERVICES_LIFECYCLE_LIFECYCLE_SETTINGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/settings_table.h"
#include "services/lifecycle/partition_maintainer.h"

namespace marketdata {

struct LifecycleConfig {
  absl::Duration partition_interval = absl::Hours(24);
  int partitions_ahead = 3;
  absl::Duration raw_retention = absl::Hours(24);  // zero: kept forever
};

const SettingTable<LifecycleConfig>& LifecycleSettingsTable();

// "90s", "15m", "6h", "8d" (a whole number and a unit); with `zero_allowed`, "0" too.
absl::StatusOr<absl::Duration> ParseDurationSetting(absl::string_view name,
                                                    absl::string_view value, bool zero_allowed);

// The tables the maintainer keeps, with their policies.
std::vector<MaintainedTable> MaintainedTables(const LifecycleConfig& config);

// How often the maintainer runs: a quarter of a partition, at most every 10 minutes.
absl::Duration MaintenancePeriod(const LifecycleConfig& config);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_LIFECYCLE_LIFECYCLE_SETTINGS_H_
