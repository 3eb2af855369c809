#include "services/providers/test_provider.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/hash/hash.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace marketdata {
namespace {

// splitmix64: a cheap, well-mixed hash of (seed, symbol, call number).
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t StableHash(absl::string_view s) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a: stable across runs, unlike absl::Hash
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

}  // namespace

TestProvider::TestProvider(std::optional<uint64_t> seed, size_t max_symbols)
    : seed_(seed.has_value() ? *seed : std::random_device{}()),
      max_symbols_(std::max<size_t>(max_symbols, 1)) {}

size_t TestProvider::tracked_symbols() const {
  absl::MutexLock lock(&mu_);
  return index_.size();
}

uint64_t TestProvider::NextCall(absl::string_view symbol) {
  if (auto it = index_.find(symbol); it != index_.end()) {
    recent_.splice(recent_.begin(), recent_, it->second);
    return it->second->count++;
  }
  if (index_.size() >= max_symbols_) {
    index_.erase(recent_.back().symbol);
    recent_.pop_back();
  }
  recent_.push_front(Calls{std::string(symbol), 1});
  index_.emplace(recent_.front().symbol, recent_.begin());
  return 0;
}

double TestProvider::BasePrice(absl::string_view symbol) {
  if (symbol == "AAPL") return 180;
  if (symbol == "MSFT") return 420;
  if (symbol == "GOOGL") return 140;
  if (symbol == "AMZN") return 170;
  if (symbol == "TSLA") return 250;
  if (symbol == "SPY") return 450;
  return 100;
}

absl::StatusOr<Quote> TestProvider::FetchQuote(absl::string_view symbol) {
  uint64_t n;
  {
    absl::MutexLock lock(&mu_);
    n = NextCall(symbol);
  }
  const uint64_t bits = Mix(seed_ ^ Mix(StableHash(symbol) ^ Mix(n)));
  const double unit = static_cast<double>(bits >> 11) / static_cast<double>(1ULL << 53);  // [0,1)
  const double base = BasePrice(symbol);
  const double price = std::round(base * (1.0 + 0.04 * (unit - 0.5)) * 100.0) / 100.0;

  Quote quote;
  quote.symbol = std::string(symbol);
  quote.price = price;
  quote.timestamp = absl::Now();
  quote.provider = name();
  // A plausible trade size: 100 to 5,000 shares in round lots, from other bits of the same draw.
  quote.volume = 100.0 * static_cast<double>(1 + (bits >> 3) % 50);
  quote.raw_response = absl::StrFormat(
      R"({"symbol":"%s","price":%.2f,"volume":%.0f,"base_price":%.2f,"sequence":%d,)"
      R"("timestamp":"%s"})",
      symbol, price, *quote.volume, base, n,
      absl::FormatTime(absl::RFC3339_full, quote.timestamp, absl::UTCTimeZone()));
  return quote;
}

}  // namespace marketdata
