// How long each kind of data is kept, and how the tables that hold it are cut in time.
#ifndef MARKETDATA_SERVICES_LIFECYCLE_LIFECYCLE_SETTINGS_H_
#define MARKETDATA_SERVICES_LIFECYCLE_LIFECYCLE_SETTINGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/config/settings_table.h"
#include "services/domain/acceptance_window.h"
#include "services/lifecycle/partition_maintainer.h"

namespace marketdata {

struct LifecycleConfig {
  absl::Duration partition_interval = absl::Hours(24);
  int partitions_ahead = 3;
  absl::Duration raw_retention = absl::Hours(24);  // zero: kept forever
  // Prices and their moving averages, by the price's own time; zero: kept forever.
  absl::Duration price_retention = absl::Hours(24 * 8);
  // How old a quote may be and still be stored (see AcceptanceWindow).
  absl::Duration late_price_window = absl::Hours(24 * 7);
  // One-minute and five-minute bars, by their bucket; zero: kept forever. Bars of any other
  // interval are kept: the long-term store, served after their prices are gone.
  absl::Duration bar_retention_1m = absl::Hours(24 * 90);
  absl::Duration bar_retention_5m = absl::Hours(24 * 365);
};

// Bars are cut into time partitions of this many PARTITION_INTERVALs (a week by default) but at
// least a day, each cut by interval so that one-minute and five-minute bars go before the
// others.
inline constexpr int kBarPartitionIntervals = 7;
// The longest bar interval (BAR_INTERVALS allows up to a day): how far a bar's bucket may start
// before its prices.
inline constexpr absl::Duration kLongestBarInterval = absl::Hours(24);
absl::Duration BarPartitionLength(const LifecycleConfig& config);

// The settings that must agree with each other: prices outlive the late window by at least a
// partition, so that every price a late one is averaged with is still there.
absl::Status CheckLifecycleConfig(const LifecycleConfig& config);

// The window the partitions made hold: `late_price_window` back, and ahead up to a day (what the
// providers' checks let through) but no further than the partitions made ahead.
AcceptanceWindow PriceAcceptanceWindow(const LifecycleConfig& config);

const SettingTable<LifecycleConfig>& LifecycleSettingsTable();

// The row of LATE_PRICE_WINDOW, for any settings table that needs it.
// A row that reads a duration (see ParseDurationSetting) into `config.*field`.
template <typename Config>
SettingRow<Config> DurationSetting(std::string name, std::string default_value,
                                   absl::Duration Config::*field, bool zero_allowed,
                                   std::string meaning);

template <typename Config>
SettingRow<Config> LatePriceWindowSetting(absl::Duration Config::*field);

// "90s", "15m", "6h", "8d" (a whole number and a unit); with `zero_allowed`, "0" too.
absl::StatusOr<absl::Duration> ParseDurationSetting(absl::string_view name,
                                                    absl::string_view value, bool zero_allowed);

// The tables the maintainer keeps, with their policies.
std::vector<MaintainedTable> MaintainedTables(const LifecycleConfig& config);

// How often the maintainer runs: a quarter of a partition, at most every 10 minutes.
absl::Duration MaintenancePeriod(const LifecycleConfig& config);

template <typename Config>
SettingRow<Config> DurationSetting(std::string name, std::string default_value,
                                   absl::Duration Config::*field, bool zero_allowed,
                                   std::string meaning) {
  return CustomSetting<Config>(
      std::move(name), std::move(default_value),
      [field, zero_allowed](const std::string& n, const std::string& value, Config& c) {
        absl::StatusOr<absl::Duration> d = ParseDurationSetting(n, value, zero_allowed);
        if (!d.ok()) return d.status();
        c.*field = *d;
        return absl::OkStatus();
      },
      std::move(meaning));
}

template <typename Config>
SettingRow<Config> LatePriceWindowSetting(absl::Duration Config::*field) {
  return DurationSetting<Config>(
      "LATE_PRICE_WINDOW", "7d", field, false,
      "how old a quote may be and still be stored and averaged (e.g. 7d): an older one is "
      "answered but neither stored nor published, and the consumer skips older events, so "
      "averages and bars before it are final; the same on mds-api and mds-consumer");
}

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_LIFECYCLE_LIFECYCLE_SETTINGS_H_
