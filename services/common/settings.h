// Settings: process configuration read from environment variables, each overridable by a
// command-line flag of the same name in kebab case (DATABASE_URL -> --database-url=...).
// A bad value is reported as a Status naming the setting, so main() can stop with one line.
#ifndef MARKETDATA_SERVICES_COMMON_SETTINGS_H_
#define MARKETDATA_SERVICES_COMMON_SETTINGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace marketdata {

class Settings {
 public:
  // Reads `environ` and `--name=value` flags; unknown flags are an error reported by Validate().
  static Settings FromProcess(int argc, char** argv);
  // For tests: explicit values, keyed by environment variable name.
  static Settings FromMap(std::map<std::string, std::string> values);

  std::optional<std::string> Find(const std::string& name) const;
  std::string GetString(const std::string& name, const std::string& fallback);
  absl::StatusOr<std::string> GetRequiredString(const std::string& name);
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback, int64_t min,
                                 int64_t max);
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback, double min,
                                   double max);
  // Comma-separated positive integers, e.g. MOVING_AVERAGE_WINDOWS=5,20,50.
  absl::StatusOr<std::vector<int>> GetIntList(const std::string& name, const std::string& fallback,
                                             int min, int max);

  // Fails on a flag that names no setting read so far. Call after reading every setting.
  absl::Status Validate() const;

  // "--database-url" for "DATABASE_URL".
  static std::string FlagName(const std::string& env_name);

 private:
  std::map<std::string, std::string> env_;
  std::map<std::string, std::string> flags_;  // keyed by environment variable name
  std::vector<std::string> bad_flags_;
  std::vector<std::string> read_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_SETTINGS_H_
