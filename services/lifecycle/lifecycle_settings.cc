#include "services/lifecycle/lifecycle_settings.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace marketdata {
namespace {

constexpr int64_t kDaySeconds = 86400;

// More would make every read that walks a table's partitions (the latest price, a snapshot) slow,
// and the catalog large.
constexpr int64_t kMaxPartitionsPerTable = 1000;

absl::Status ParseInto(absl::Duration LifecycleConfig::*field, bool zero_allowed,
                       const std::string& name, const std::string& value,
                       LifecycleConfig& config) {
  absl::StatusOr<absl::Duration> d = ParseDurationSetting(name, value, zero_allowed);
  if (!d.ok()) return d.status();
  config.*field = *d;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<absl::Duration> ParseDurationSetting(absl::string_view name,
                                                    absl::string_view value, bool zero_allowed) {
  if (zero_allowed && value == "0") return absl::ZeroDuration();
  const auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": '", value, "' is not a duration like 90s, 15m, 6h or 8d",
        zero_allowed ? " (or 0 for no limit)" : ""));
  };
  if (value.size() < 2) return bad();
  for (char c : value.substr(0, value.size() - 1)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return bad();
  }
  int64_t n = 0;
  if (!absl::SimpleAtoi(value.substr(0, value.size() - 1), &n) || n <= 0 ||
      n > 100 * 365 * kDaySeconds) {
    return bad();
  }
  switch (value.back()) {
    case 's': return absl::Seconds(n);
    case 'm': return absl::Minutes(n);
    case 'h': return absl::Hours(n);
    case 'd': return absl::Hours(24 * n);
    default: return bad();
  }
}

const SettingTable<LifecycleConfig>& LifecycleSettingsTable() {
  static const auto* const kTable = new SettingTable<LifecycleConfig>({
      CustomSetting<LifecycleConfig>(
          "PARTITION_INTERVAL", "1d",
          [](const std::string& name, const std::string& value, LifecycleConfig& c) {
            absl::Status s = ParseInto(&LifecycleConfig::partition_interval, false, name, value, c);
            if (!s.ok()) return s;
            const int64_t secs = absl::ToInt64Seconds(c.partition_interval);
            if (secs < 60 || (kDaySeconds % secs != 0 && secs % kDaySeconds != 0) ||
                c.partition_interval != absl::Seconds(secs)) {
              return absl::InvalidArgumentError(absl::StrCat(
                  name, ": '", value, "' must be at least 1m and divide a day, or be whole days"));
            }
            return absl::OkStatus();
          },
          "length of one time partition of the tables that grow with time (raw replies, "
          "prices and averages; a bar partition is seven of them): "
          "1d is a UTC day; a short one (1m) stands in for days in tests"),
      IntSetting("PARTITIONS_AHEAD", 3, 2, 1000, &LifecycleConfig::partitions_ahead,
                 "time partitions kept made ahead of the current one; an alert fires when fewer "
                 "than 2 are left"),
      DurationSetting<LifecycleConfig>(
          "RAW_RETENTION", "1d", &LifecycleConfig::raw_retention, true,
          "how long raw provider replies are kept after they were fetched (e.g. 1d, 12h); "
          "removed a whole partition at a time; 0 keeps them forever"),
      DurationSetting<LifecycleConfig>(
          "PRICE_RETENTION", "8d", &LifecycleConfig::price_retention, true,
          "how long prices and their moving averages are kept, by the price's time (e.g. 8d); "
          "at least LATE_PRICE_WINDOW plus one PARTITION_INTERVAL; removed a whole partition "
          "at a time; 0 keeps them forever"),
      LatePriceWindowSetting(&LifecycleConfig::late_price_window),
      DurationSetting<LifecycleConfig>(
          "BAR_RETENTION_1M", "90d", &LifecycleConfig::bar_retention_1m, true,
          "how long one-minute bars are kept, by their bucket (e.g. 90d); removed a week's "
          "partition at a time; 0 keeps them forever"),
      DurationSetting<LifecycleConfig>(
          "BAR_RETENTION_5M", "365d", &LifecycleConfig::bar_retention_5m, true,
          "how long five-minute bars are kept, by their bucket; 0 keeps them forever; bars of "
          "every other interval are kept forever"),
  });
  return *kTable;
}

absl::Status CheckLifecycleConfig(const LifecycleConfig& c) {
  if (c.price_retention > absl::ZeroDuration() &&
      c.price_retention < c.late_price_window + c.partition_interval) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PRICE_RETENTION (", absl::FormatDuration(c.price_retention),
        ") must be at least LATE_PRICE_WINDOW plus one PARTITION_INTERVAL (",
        absl::FormatDuration(c.late_price_window + c.partition_interval),
        "): a late price is averaged with the prices before it, which must still be there"));
  }
  const absl::Duration bar_partition = BarPartitionLength(c);
  for (const auto& [name, retention] : {std::pair{"BAR_RETENTION_1M", c.bar_retention_1m},
                                        std::pair{"BAR_RETENTION_5M", c.bar_retention_5m}}) {
    if (retention > absl::ZeroDuration() &&
        retention < c.late_price_window + kLongestBarInterval + bar_partition) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, " (", absl::FormatDuration(retention),
          ") must be at least LATE_PRICE_WINDOW, a day and one bar partition (",
          absl::FormatDuration(c.late_price_window + kLongestBarInterval + bar_partition),
          "): a late price still rewrites its bars, whose buckets start up to a day earlier"));
    }
  }
  const absl::Duration kept =
      std::max({c.raw_retention, c.price_retention, c.late_price_window + c.partition_interval});
  absl::Duration rest;
  const int64_t partitions =
      absl::IDivDuration(kept, c.partition_interval, &rest) + c.partitions_ahead + 1;
  if (partitions > kMaxPartitionsPerTable) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RAW_RETENTION, PRICE_RETENTION and LATE_PRICE_WINDOW over PARTITION_INTERVAL (",
        absl::FormatDuration(c.partition_interval), ") make ", partitions,
        " partitions per table; at most ", kMaxPartitionsPerTable,
        ": use longer partitions or shorter windows"));
  }
  return absl::OkStatus();
}

absl::Duration BarPartitionLength(const LifecycleConfig& config) {
  return std::max(config.partition_interval * kBarPartitionIntervals, absl::Hours(24));
}

AcceptanceWindow PriceAcceptanceWindow(const LifecycleConfig& config) {
  AcceptanceWindow w;
  w.late = config.late_price_window;
  // The partitions made ahead end at least `partitions_ahead` lengths after now.
  w.ahead = std::min(absl::Hours(24), config.partition_interval * config.partitions_ahead);
  return w;
}

std::vector<MaintainedTable> MaintainedTables(const LifecycleConfig& config) {
  PartitionPolicy raw;
  raw.length = config.partition_interval;
  raw.ahead = config.partitions_ahead;
  raw.retention = config.raw_retention;
  // Prices are partitioned by their own time, which reaches back as far as the late window: the
  // partitions are made that far back, and one more for the clocks of the processes to differ.
  PartitionPolicy prices = raw;
  prices.behind = config.late_price_window + config.partition_interval;
  prices.retention = config.price_retention;
  MaintainedTable price_points{"price_points", prices};
  // A price is removed only once its event was published: while the outbox still holds one,
  // its partition stays (the relay reads the price from it).
  price_points.keep_while_outbox_holds = true;
  // Bars: a week's partition each (in PARTITION_INTERVALs, at least a day), back over the late
  // window, kept;
  // within each, the one-minute and five-minute bars go after their own retention.
  PartitionPolicy weeks = prices;
  weeks.length = BarPartitionLength(config);
  // A bar's bucket starts up to its interval (a day at most) before its prices.
  weeks.behind = config.late_price_window + kLongestBarInterval + weeks.length;
  weeks.retention = absl::ZeroDuration();
  MaintainedTable bars{"bars", weeks};
  const std::string column = "interval_seconds";
  bars.subpartitions = {
      {{"_finer", column, std::nullopt, 60}, absl::ZeroDuration()},
      {{"_1m", column, 60, 61}, config.bar_retention_1m},
      {{"_mid", column, 61, 300}, absl::ZeroDuration()},
      {{"_5m", column, 300, 301}, config.bar_retention_5m},
      {{"_coarser", column, 301, std::nullopt}, absl::ZeroDuration()},
  };
  return {{"raw_market_data", raw}, price_points, {"moving_averages", prices}, bars};
}

absl::Duration MaintenancePeriod(const LifecycleConfig& config) {
  return std::clamp(config.partition_interval / 4, absl::Seconds(1), absl::Minutes(10));
}

}  // namespace marketdata
