#include "services/domain/api_key.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace marketdata {

absl::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kRead:
      return "read";
    case Scope::kWrite:
      return "write";
    case Scope::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::vector<std::string> ScopeSet::Names() const {
  std::vector<std::string> names;
  for (Scope scope : {Scope::kRead, Scope::kWrite, Scope::kAdmin}) {
    if (Has(scope)) names.emplace_back(ScopeName(scope));
  }
  return names;
}

absl::StatusOr<ScopeSet> ParseScopes(const std::vector<std::string>& names) {
  ScopeSet scopes;
  for (const std::string& raw : names) {
    const absl::string_view name = absl::StripAsciiWhitespace(raw);
    if (name.empty()) continue;
    bool known = false;
    for (Scope scope : {Scope::kRead, Scope::kWrite, Scope::kAdmin}) {
      if (name == ScopeName(scope)) {
        scopes.Add(scope);
        known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown scope \"", name, "\": use read, write or admin"));
    }
  }
  if (scopes.empty()) {
    return absl::InvalidArgumentError("scopes: name at least one of read, write, admin");
  }
  return scopes;
}

absl::StatusOr<ScopeSet> ParseScopes(absl::string_view text) {
  return ParseScopes(std::vector<std::string>(absl::StrSplit(text, ',')));
}

absl::Status CheckKeyName(absl::string_view name) {
  if (name.empty() || name.size() > 64) {
    return absl::InvalidArgumentError("name: 1 to 64 characters");
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError("name: only letters, digits, '.', '_' and '-'");
    }
  }
  return absl::OkStatus();
}

}  // namespace marketdata
