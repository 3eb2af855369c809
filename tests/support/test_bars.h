// Bars for the store tests: every column given, or only what a snapshot serves.
#ifndef MARKETDATA_TESTS_SUPPORT_TEST_BARS_H_
#define MARKETDATA_TESTS_SUPPORT_TEST_BARS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "services/domain/bar.h"

namespace marketdata::testing {

inline Bar MakeBar(const std::string& symbol, int interval, absl::Time start, double open,
                   double high, double low, double close, int64_t count,
                   std::optional<double> volume, absl::Time open_ts, int64_t open_id,
                   absl::Time close_ts, int64_t close_id, int64_t max_id) {
  Bar b;
  b.key = BarKey{symbol, interval, start};
  b.open = open;
  b.high = high;
  b.low = low;
  b.close = close;
  b.price_count = count;
  b.volume = volume;
  b.open_ts = open_ts;
  b.open_id = open_id;
  b.close_ts = close_ts;
  b.close_id = close_id;
  b.max_id = max_id;
  return b;
}

// Opened and closed at `start`, by price point `count`.
inline Bar MakeBar(const std::string& symbol, int interval, absl::Time start, double open,
                   double high, double low, double close, int64_t count,
                   std::optional<double> volume) {
  return MakeBar(symbol, interval, start, open, high, low, close, count, volume, start, count,
                 start, count, count);
}

}  // namespace marketdata::testing

#endif  // MARKETDATA_TESTS_SUPPORT_TEST_BARS_H_
