// Ticker symbols as the service accepts them: case-insensitive on input, stored upper-case.
#ifndef MARKETDATA_SERVICES_DOMAIN_SYMBOL_H_
#define MARKETDATA_SERVICES_DOMAIN_SYMBOL_H_

#include <cstddef>
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

// The most symbols one stream may follow.
inline constexpr size_t kMaxStreamSymbols = 1000;

// Normalises every symbol (elements may themselves be comma-separated lists), drops duplicates
// keeping the order of first appearance. More than `max_symbols` distinct symbols is
// INVALID_ARGUMENT "<field>: at most N symbols", found without reading further: the cost of a
// refused request does not grow with its size.
absl::StatusOr<std::vector<std::string>> NormalizeSymbols(const std::vector<std::string>& raw,
                                                          size_t max_symbols,
                                                          absl::string_view field = "symbols");

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_DOMAIN_SYMBOL_H_
