#include "services/common/settings.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace marketdata {
namespace {

std::string EnvNameFromFlag(std::string flag) {
  for (char& c : flag) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return flag;
}

}  // namespace

std::string Settings::FlagName(const std::string& env_name) {
  std::string flag = "--";
  for (char c : env_name) flag += c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return flag;
}

Settings Settings::FromProcess(int argc, char** argv) {
  Settings s;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::pair<std::string, std::string> kv = absl::StrSplit(*e, absl::MaxSplits('=', 1));
    s.env_[kv.first] = kv.second;
  }
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!absl::ConsumePrefix(&arg, "--") || arg.find('=') == absl::string_view::npos) {
      s.bad_flags_.push_back(argv[i]);
      continue;
    }
    std::pair<std::string, std::string> kv = absl::StrSplit(arg, absl::MaxSplits('=', 1));
    s.flags_[EnvNameFromFlag(kv.first)] = kv.second;
  }
  return s;
}

Settings Settings::FromMap(std::map<std::string, std::string> values) {
  Settings s;
  s.env_ = std::move(values);
  return s;
}

std::optional<std::string> Settings::Find(const std::string& name) const {
  if (auto it = flags_.find(name); it != flags_.end()) return it->second;
  if (auto it = env_.find(name); it != env_.end() && !it->second.empty()) return it->second;
  return std::nullopt;
}

std::string Settings::GetString(const std::string& name, const std::string& fallback) {
  read_.push_back(name);
  return Find(name).value_or(fallback);
}

absl::StatusOr<std::string> Settings::GetRequiredString(const std::string& name) {
  read_.push_back(name);
  auto value = Find(name);
  if (!value.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " is required (environment variable or ", FlagName(name), ")"));
  }
  return *value;
}

absl::StatusOr<int64_t> Settings::GetInt(const std::string& name, int64_t fallback, int64_t min,
                                         int64_t max) {
  read_.push_back(name);
  auto value = Find(name);
  if (!value.has_value()) return fallback;
  int64_t parsed = 0;
  if (!absl::SimpleAtoi(*value, &parsed) || parsed < min || parsed > max) {
    return absl::InvalidArgumentError(absl::StrCat(name, "=\"", *value,
                                                   "\" is not an integer between ", min, " and ",
                                                   max));
  }
  return parsed;
}

absl::StatusOr<double> Settings::GetDouble(const std::string& name, double fallback, double min,
                                           double max) {
  read_.push_back(name);
  auto value = Find(name);
  if (!value.has_value()) return fallback;
  double parsed = 0;
  if (!absl::SimpleAtod(*value, &parsed) || !(parsed >= min && parsed <= max)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "=\"", *value, "\" is not a number between ", min, " and ", max));
  }
  return parsed;
}

absl::StatusOr<std::vector<int>> Settings::GetIntList(const std::string& name,
                                                      const std::string& fallback, int min,
                                                      int max) {
  read_.push_back(name);
  std::string value = Find(name).value_or(fallback);
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    int parsed = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &parsed) || parsed < min ||
        parsed > max) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, "=\"", value, "\" must be a comma-separated list of integers between ", min,
          " and ", max));
    }
    if (std::find(out.begin(), out.end(), parsed) == out.end()) out.push_back(parsed);
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name, " must not be empty"));
  }
  return out;
}

absl::Status Settings::Validate() const {
  std::vector<std::string> unknown = bad_flags_;
  for (const auto& [name, value] : flags_) {
    if (std::find(read_.begin(), read_.end(), name) == read_.end()) {
      unknown.push_back(FlagName(name));
    }
  }
  if (unknown.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown flag(s): ", absl::StrJoin(unknown, ", "),
                   " (flags take the form --setting-name=value)"));
}

}  // namespace marketdata
