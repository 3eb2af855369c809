// SettingTable: every setting of a binary in one table (environment name, default, one-line
// meaning, parser), from which the configuration is loaded, `--help` is written and the docs are
// checked, so the three cannot drift apart. A bad value is a Status naming the setting, so main()
// can stop with one line.
//
//   const SettingTable<ApiConfig>& ApiSettings() {
//     static const auto* table = new SettingTable<ApiConfig>({
//         RequiredStringSetting("DATABASE_URL", &ApiConfig::database_url, "PostgreSQL ..."),
//         IntSetting("DATABASE_POOL_SIZE", 16, 1, 256, &ApiConfig::database_pool_size, "..."),
//         EmbeddedSettings(&ApiConfig::providers, ProviderSettingsTable()),
//     });
//     return *table;
//   }
#ifndef MARKETDATA_SERVICES_COMMON_CONFIG_SETTINGS_TABLE_H_
#define MARKETDATA_SERVICES_COMMON_CONFIG_SETTINGS_TABLE_H_

#include <cassert>
#include <cstdint>
#include <functional>
#include <map>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/config/settings.h"

namespace marketdata {

// What `--help` shows of a setting.
struct SettingDoc {
  std::string name;                          // environment variable, e.g. DATABASE_URL
  std::optional<std::string> default_value;  // nullopt: required
  std::string meaning;                       // one line
};

// The usage text of `program` for these settings, in their order:
//
//   Usage: <program> [--setting-name=value ...]
//   Every setting is read from its environment variable; a flag of the same name in kebab case
//   overrides it.                                    (one line)
//   <blank line>
//     NAME  --name  default: <value>                 (`default: ""` when empty, or `(required)`)
//         meaning
//
// The Go gateway writes the same format; the docs check parses it.
std::string SettingsHelp(absl::string_view program, const std::vector<SettingDoc>& docs);

// Parsers shared by the row builders below and by custom setters. Each error names the setting
// and quotes the value.
absl::StatusOr<int64_t> ParseIntSetting(absl::string_view name, absl::string_view value,
                                        int64_t min, int64_t max);
absl::StatusOr<double> ParseDoubleSetting(absl::string_view name, absl::string_view value,
                                          double min, double max);
// Comma-separated integers, e.g. MOVING_AVERAGE_WINDOWS=5,20,50: duplicates dropped (first
// occurrence kept), at least one required.
absl::StatusOr<std::vector<int>> ParseIntListSetting(absl::string_view name,
                                                     absl::string_view value, int min, int max);
// "key=value" pairs separated by ';', e.g. KAFKA_CONFIG=security.protocol=SSL;ssl.ca.location=x:
// empty parts are skipped, a key given twice keeps the last value, a part without '=' fails.
absl::StatusOr<std::map<std::string, std::string>> ParseKeyValueSetting(absl::string_view name,
                                                                        absl::string_view value);
// "1-256": the range of a setting as the meanings in `--help` show it (no exponents).
std::string RangeText(double min, double max);

// One row of a SettingTable<Config>. `set` parses `value` (the flag, the environment variable or
// the default) into `config`; an error names `name`.
template <typename Config>
struct SettingRow {
  using Setter =
      std::function<absl::Status(const std::string& name, const std::string& value, Config&)>;

  SettingDoc doc;
  Setter set;
};

// One or more rows at one place of a table: what every row builder returns, so a nested table
// can be embedded where a single row would go.
template <typename Config>
class SettingRows {
 public:
  // Implicit, so that a table lists single rows and embedded tables alike.
  SettingRows(SettingRow<Config> row) {  // NOLINT(google-explicit-constructor)
    rows_.push_back(std::move(row));
  }
  explicit SettingRows(std::vector<SettingRow<Config>> rows) : rows_(std::move(rows)) {}

  const std::vector<SettingRow<Config>>& rows() const { return rows_; }

 private:
  std::vector<SettingRow<Config>> rows_;
};

template <typename Config>
class SettingTable {
 public:
  // Rows in the order `--help` lists them. Config must be default-constructible; every field a
  // row sets gets the row's default or value in Load().
  SettingTable(std::initializer_list<SettingRows<Config>> rows) {
    for (const SettingRows<Config>& group : rows) {
      rows_.insert(rows_.end(), group.rows().begin(), group.rows().end());
    }
  }

  // Applies every row's value (flag, else non-empty environment variable, else default) to a
  // default-constructed Config. Fails on a flag that names no row, on a required row left unset
  // and on the first bad value.
  absl::StatusOr<Config> Load(const Settings& settings) const {
    if (absl::Status s = settings.CheckFlags(NameSet()); !s.ok()) return s;
    Config config;
    for (const SettingRow<Config>& row : rows_) {
      std::optional<std::string> value = settings.Find(row.doc.name);
      if (!value.has_value()) value = row.doc.default_value;
      if (!value.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(row.doc.name,
                                                       " is required (environment variable or ",
                                                       Settings::FlagName(row.doc.name), ")"));
      }
      if (absl::Status s = row.set(row.doc.name, *value, config); !s.ok()) return s;
    }
    return config;
  }

  std::string Help(absl::string_view program) const { return SettingsHelp(program, Docs()); }

  // In table order; a name appearing twice is a mistake the binaries' tests look for.
  std::vector<SettingDoc> Docs() const {
    std::vector<SettingDoc> docs;
    docs.reserve(rows_.size());
    for (const SettingRow<Config>& row : rows_) docs.push_back(row.doc);
    return docs;
  }

  // For EmbeddedSettings.
  const std::vector<SettingRow<Config>>& rows() const { return rows_; }

 private:
  std::set<std::string> NameSet() const {
    std::set<std::string> names;
    for (const SettingRow<Config>& row : rows_) names.insert(row.doc.name);
    return names;
  }

  std::vector<SettingRow<Config>> rows_;
};

// Row builders. Each takes the environment name, the default, what the value is stored in and
// the meaning shown by `--help`.

// Any text; an empty default is allowed (`default: ""`).
template <typename Config>
SettingRow<Config> StringSetting(std::string name, std::string default_value,
                                 std::string Config::*field, std::string meaning) {
  return {{std::move(name), std::move(default_value), std::move(meaning)},
          [field](const std::string&, const std::string& value, Config& config) {
            config.*field = value;
            return absl::OkStatus();
          }};
}

// No default: Load() fails when neither the variable nor the flag is set.
template <typename Config>
SettingRow<Config> RequiredStringSetting(std::string name, std::string Config::*field,
                                         std::string meaning) {
  return {{std::move(name), std::nullopt, std::move(meaning)},
          [field](const std::string&, const std::string& value, Config& config) {
            config.*field = value;
            return absl::OkStatus();
          }};
}

// An integer in [min, max], into an int or int64_t field (the range must fit the field).
template <typename Config, typename Int>
SettingRow<Config> IntSetting(std::string name, int64_t default_value, int64_t min, int64_t max,
                              Int Config::*field, const std::string& meaning) {
  static_assert(std::is_integral_v<Int> && std::is_signed_v<Int>,
                "IntSetting stores into a signed integer field");
  assert(min >= static_cast<int64_t>(std::numeric_limits<Int>::min()) &&
         max <= static_cast<int64_t>(std::numeric_limits<Int>::max()));
  return {{std::move(name), absl::StrCat(default_value),
           absl::StrCat(meaning, " (",
                        RangeText(static_cast<double>(min), static_cast<double>(max)), ")")},
          [field, min, max](const std::string& name, const std::string& value, Config& config) {
            absl::StatusOr<int64_t> parsed = ParseIntSetting(name, value, min, max);
            if (!parsed.ok()) return parsed.status();
            config.*field = static_cast<Int>(*parsed);
            return absl::OkStatus();
          }};
}

// A number in [min, max].
template <typename Config>
SettingRow<Config> DoubleSetting(std::string name, double default_value, double min, double max,
                                 double Config::*field, const std::string& meaning) {
  return {{std::move(name), absl::StrCat(default_value),
           absl::StrCat(meaning, " (", RangeText(min, max), ")")},
          [field, min, max](const std::string& name, const std::string& value, Config& config) {
            absl::StatusOr<double> parsed = ParseDoubleSetting(name, value, min, max);
            if (!parsed.ok()) return parsed.status();
            config.*field = *parsed;
            return absl::OkStatus();
          }};
}

// Comma-separated integers, each in [min, max]; see ParseIntListSetting.
template <typename Config>
SettingRow<Config> IntListSetting(std::string name, std::string default_value, int min, int max,
                                  std::vector<int> Config::*field, const std::string& meaning) {
  return {{std::move(name), std::move(default_value),
           absl::StrCat(meaning, " (each ", RangeText(min, max), ")")},
          [field, min, max](const std::string& name, const std::string& value, Config& config) {
            absl::StatusOr<std::vector<int>> parsed = ParseIntListSetting(name, value, min, max);
            if (!parsed.ok()) return parsed.status();
            config.*field = *std::move(parsed);
            return absl::OkStatus();
          }};
}

// key=value pairs separated by ';'; see ParseKeyValueSetting.
template <typename Config>
SettingRow<Config> KeyValueSetting(std::string name,
                                   std::map<std::string, std::string> Config::*field,
                                   const std::string& meaning) {
  return {{std::move(name), "", meaning},
          [field](const std::string& name, const std::string& value, Config& config) {
            absl::StatusOr<std::map<std::string, std::string>> parsed =
                ParseKeyValueSetting(name, value);
            if (!parsed.ok()) return parsed.status();
            config.*field = *std::move(parsed);
            return absl::OkStatus();
          }};
}

// A whole number of milliseconds in [min_ms, max_ms], into an absl::Duration field.
template <typename Config>
SettingRow<Config> MillisecondsSetting(std::string name, int64_t default_ms, int64_t min_ms,
                                       int64_t max_ms, absl::Duration Config::*field,
                                       const std::string& meaning) {
  return {{std::move(name), absl::StrCat(default_ms),
           absl::StrCat(meaning, " (", RangeText(static_cast<double>(min_ms),
                                                 static_cast<double>(max_ms)), ")")},
          [field, min_ms, max_ms](const std::string& name, const std::string& value,
                                  Config& config) {
            absl::StatusOr<int64_t> parsed = ParseIntSetting(name, value, min_ms, max_ms);
            if (!parsed.ok()) return parsed.status();
            config.*field = absl::Milliseconds(*parsed);
            return absl::OkStatus();
          }};
}

// Anything else: `set` parses the value (the default included) and names the setting in its
// errors. A nullopt default makes the setting required.
template <typename Config>
SettingRow<Config> CustomSetting(std::string name, std::optional<std::string> default_value,
                                 typename SettingRow<Config>::Setter set, std::string meaning) {
  return {{std::move(name), std::move(default_value), std::move(meaning)}, std::move(set)};
}

// Every row of `table` at this place, storing into `config.*member`: e.g. the provider settings
// of mds-api, whose table lives with the providers.
template <typename Config, typename Member>
SettingRows<Config> EmbeddedSettings(Member Config::*member, const SettingTable<Member>& table) {
  std::vector<SettingRow<Config>> rows;
  for (const SettingRow<Member>& row : table.rows()) {
    rows.push_back({row.doc, [member, set = row.set](const std::string& name,
                                                     const std::string& value, Config& config) {
                      return set(name, value, config.*member);
                    }});
  }
  return SettingRows<Config>(std::move(rows));
}

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_CONFIG_SETTINGS_TABLE_H_
