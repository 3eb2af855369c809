// Ticker symbols as the service accepts them: case-insensitive on input, stored upper-case.
#ifndef MARKETDATA_SERVICES_DOMAIN_SYMBOL_H_
#define MARKETDATA_SERVICES_DOMAIN_SYMBOL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace marketdata {

inline constexpr size_t kMaxSymbolLength = 15;

// Trims and upper-cases `raw` and checks it: 1..15 characters of A-Z, 0-9, '.', '-', '=', '^'
// (BRK.B, BTC-USD, EURUSD=X, ^GSPC), starting with a letter, digit or '^'. An empty symbol is a
// missing-field error; anything else invalid is INVALID_ARGUMENT naming the symbol.
absl::StatusOr<std::string> NormalizeSymbol(absl::string_view raw);

// Normalises every symbol (elements may themselves be comma-separated lists), drops duplicates
// keeping the order of first appearance.
absl::StatusOr<std::vector<std::string>> NormalizeSymbols(const std::vector<std::string>& raw);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_DOMAIN_SYMBOL_H_
