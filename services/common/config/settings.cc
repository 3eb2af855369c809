#include "services/common/config/settings.h"

#include <cctype>
#include <utility>

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
    if (arg == "--help" || arg == "-h") {
      s.help_requested_ = true;
      continue;
    }
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

absl::Status Settings::CheckFlags(const std::set<std::string>& known) const {
  std::vector<std::string> unknown = bad_flags_;
  for (const auto& [name, value] : flags_) {
    if (known.count(name) == 0) unknown.push_back(FlagName(name));
  }
  if (unknown.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown flag(s): ", absl::StrJoin(unknown, ", "),
                   " (flags take the form --setting-name=value)"));
}

}  // namespace marketdata
