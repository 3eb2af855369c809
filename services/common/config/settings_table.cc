#include "services/common/config/settings_table.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace marketdata {

std::string SettingsHelp(absl::string_view program, const std::vector<SettingDoc>& docs) {
  std::string out = absl::StrCat(
      "Usage: ", program, " [--setting-name=value ...]\n",
      "Every setting is read from its environment variable; a flag of the same name in kebab "
      "case overrides it.\n\n");
  for (const SettingDoc& doc : docs) {
    std::string value = "(required)";
    if (doc.default_value.has_value()) {
      value = absl::StrCat("default: ", doc.default_value->empty() ? "\"\"" : *doc.default_value);
    }
    absl::StrAppend(&out, "  ", doc.name, "  ", Settings::FlagName(doc.name), "  ", value,
                    "\n      ", doc.meaning, "\n");
  }
  return out;
}

absl::StatusOr<int64_t> ParseIntSetting(absl::string_view name, absl::string_view value,
                                        int64_t min, int64_t max) {
  int64_t parsed = 0;
  if (!absl::SimpleAtoi(value, &parsed) || parsed < min || parsed > max) {
    return absl::InvalidArgumentError(absl::StrCat(name, "=\"", value,
                                                   "\" is not an integer between ", min, " and ",
                                                   max));
  }
  return parsed;
}

absl::StatusOr<double> ParseDoubleSetting(absl::string_view name, absl::string_view value,
                                          double min, double max) {
  double parsed = 0;
  // Written so that NaN, which compares false with everything, is out of range.
  if (!absl::SimpleAtod(value, &parsed) || !(parsed >= min && parsed <= max)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "=\"", value, "\" is not a number between ", min, " and ", max));
  }
  return parsed;
}

absl::StatusOr<std::vector<int>> ParseIntListSetting(absl::string_view name,
                                                     absl::string_view value, int min, int max) {
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

absl::StatusOr<std::map<std::string, std::string>> ParseKeyValueSetting(absl::string_view name,
                                                                        absl::string_view value) {
  std::map<std::string, std::string> out;
  int index = 0;
  for (absl::string_view part : absl::StrSplit(value, ';', absl::SkipWhitespace())) {
    ++index;
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    const absl::string_view key = absl::StripAsciiWhitespace(kv.first);
    if (key.empty() || part.find('=') == absl::string_view::npos) {
      // The value is not quoted: it may hold a password.
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": part ", index, " is not key=value (pairs are separated by ';')"));
    }
    out[std::string(key)] = std::string(absl::StripAsciiWhitespace(kv.second));
  }
  return out;
}

std::string RangeText(double min, double max) {
  // %.15g keeps 1000000 and 31536000 as written, where StrCat would print 1e+06.
  return absl::StrFormat("%.15g-%.15g", min, max);
}

}  // namespace marketdata
