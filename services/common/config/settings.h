// Settings: the raw values a process is configured with, read from environment variables, each
// overridable by a command-line flag of the same name in kebab case
// (DATABASE_URL -> --database-url=...). What the values mean, their defaults and their checks
// live in a SettingTable (settings_table.h), one per binary.
#ifndef MARKETDATA_SERVICES_COMMON_CONFIG_SETTINGS_H_
#define MARKETDATA_SERVICES_COMMON_CONFIG_SETTINGS_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace marketdata {

class Settings {
 public:
  // Reads `environ` and the `--name=value` flags of the command line. `--help` and `-h` set
  // HelpRequested(); any other argument not of the form `--name=value` is kept as a bad flag,
  // reported by CheckFlags().
  static Settings FromProcess(int argc, char** argv);
  // For tests: explicit values, keyed by environment variable name.
  static Settings FromMap(std::map<std::string, std::string> values);

  // The flag's value if given, else the environment variable's unless it is empty (an empty
  // variable is how a compose file leaves a setting at its default).
  std::optional<std::string> Find(const std::string& name) const;

  // True when `--help` or `-h` was on the command line.
  bool HelpRequested() const { return help_requested_; }

  // Fails, naming them all, on malformed arguments and on flags naming none of `known`
  // (environment variable names), so a misspelt flag stops the process instead of being ignored.
  absl::Status CheckFlags(const std::set<std::string>& known) const;

  // "--database-url" for "DATABASE_URL".
  static std::string FlagName(const std::string& env_name);

 private:
  std::map<std::string, std::string> env_;
  std::map<std::string, std::string> flags_;  // keyed by environment variable name
  std::vector<std::string> bad_flags_;
  bool help_requested_ = false;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_CONFIG_SETTINGS_H_
