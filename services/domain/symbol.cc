#include "services/domain/symbol.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/grpc/errors.h"

namespace marketdata {
namespace {

bool IsSymbolChar(char c) {
  return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '.' || c == '-' || c == '=' ||
         c == '^';
}

}  // namespace

absl::StatusOr<std::string> NormalizeSymbol(absl::string_view raw) {
  std::string symbol = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(raw));
  if (symbol.empty()) return MissingFieldError("symbol");
  const bool valid_start =
      absl::ascii_isupper(symbol[0]) || absl::ascii_isdigit(symbol[0]) || symbol[0] == '^';
  if (symbol.size() > kMaxSymbolLength || !valid_start ||
      !std::all_of(symbol.begin(), symbol.end(), IsSymbolChar)) {
    std::string shown(raw.substr(0, 32));
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid symbol \"", absl::CEscape(shown), "\": expected 1-", kMaxSymbolLength,
        " characters of letters, digits, '.', '-', '=' or '^'"));
  }
  return symbol;
}

absl::StatusOr<std::vector<std::string>> NormalizeSymbols(const std::vector<std::string>& raw,
                                                          size_t max_symbols,
                                                          absl::string_view field) {
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  for (const std::string& item : raw) {
    for (absl::string_view part : absl::StrSplit(item, ',')) {
      absl::StatusOr<std::string> symbol = NormalizeSymbol(part);
      if (!symbol.ok()) {
        if (ReasonOf(symbol.status()) == kReasonMissingField) {
          return absl::InvalidArgumentError("symbols must not contain empty entries");
        }
        return symbol.status();
      }
      if (!seen.insert(*symbol).second) continue;
      if (out.size() == max_symbols) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": at most ", max_symbols, " symbols"));
      }
      out.push_back(*std::move(symbol));
    }
  }
  return out;
}

}  // namespace marketdata
