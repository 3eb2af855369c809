// What a price costs on disk, all tables together: the price, its raw reply (stored with the
// replies of its write) and one moving average, written as the service writes them, then
// VACUUM ANALYZE. The targets: at most 500 B a price with test replies, 1,000 B with
// Yahoo-shaped ones (bars add about 3.5 B a price at one price a second per symbol).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/storage/moving_average_store.h"
#include "services/storage/price_store.h"
#include "soci/soci.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::MustAcquire;
using ::marketdata::testing::ScratchDatabase;

constexpr int kSymbols = 200;
constexpr int kSeconds = 500;  // 100,000 prices

std::string TestReply(const std::string& symbol, double price, absl::Time at) {
  return absl::StrCat(R"({"symbol":")", symbol, R"(","price":)", price,
                      R"(,"timestamp":")", absl::FormatTime(absl::RFC3339_full, at, absl::UTCTimeZone()),
                      R"(","provider":"test","volume":)", static_cast<int>(price * 1000), "}");
}

// Shaped like Yahoo's chart reply with its usual meta fields (about 1.2 KB).
std::string YahooReply(const std::string& symbol, double price, absl::Time at) {
  const std::string t = absl::StrCat(absl::ToUnixSeconds(at));
  return absl::StrCat(
      R"({"chart":{"result":[{"meta":{"currency":"USD","symbol":")", symbol,
      R"(","exchangeName":"NMS","fullExchangeName":"NasdaqGS","instrumentType":"EQUITY",)"
      R"("firstTradeDate":345479400,"regularMarketTime":)", t,
      R"(,"hasPrePostMarketData":true,"gmtoffset":-18000,"timezone":"EST",)"
      R"("exchangeTimezoneName":"America/New_York","regularMarketPrice":)", price,
      R"(,"fiftyTwoWeekHigh":199.62,"fiftyTwoWeekLow":164.08,"regularMarketDayHigh":)",
      price + 1, R"(,"regularMarketDayLow":)", price - 1,
      R"(,"regularMarketVolume":52000000,"longName":")", symbol,
      R"( Holdings Incorporated","shortName":")", symbol,
      R"( Holdings Inc.","chartPreviousClose":189.5,"previousClose":189.5,"scale":3,)"
      R"("priceHint":2,"currentTradingPeriod":{"pre":{"timezone":"EST","start":1704445200,)"
      R"("end":1704465000,"gmtoffset":-18000},"regular":{"timezone":"EST","start":1704465000,)"
      R"("end":1704488400,"gmtoffset":-18000},"post":{"timezone":"EST","start":1704488400,)"
      R"("end":1704502800,"gmtoffset":-18000}},"dataGranularity":"1d","range":"1d",)"
      R"("validRanges":["1d","5d","1mo","3mo","6mo","1y","2y","5y","10y","ytd","max"]},)"
      R"("timestamp":[)", t, R"(],"indicators":{"quote":[{"open":[)", price,
      R"(],"close":[)", price, R"(],"volume":[52000000]}]}}],"error":null}})");
}

// Bytes a price, every table together, with `reply` shaping the raw replies and `batch` prices
// a write (the writer commits together what arrives during one commit).
double BytesPerPrice(const std::function<std::string(const std::string&, double, absl::Time)>& reply,
                     size_t batch) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  PostgresMovingAverageStore averages(*db);
  const absl::Time start = absl::Now() - absl::Hours(2);
  std::vector<Quote> quotes;
  std::vector<AverageRow> rows;
  for (int s = 0; s < kSeconds; ++s) {
    for (int i = 0; i < kSymbols; ++i) {
      const std::string symbol = absl::StrCat("S", 1000 + i);
      const double price = 100 + (s * 7 + i) % 97 * 0.37;
      const absl::Time at = start + absl::Seconds(s) + absl::Microseconds(i);
      quotes.push_back(Quote{symbol, price, at, "test", reply(symbol, price, at)});
      if (quotes.size() == batch) {
        absl::StatusOr<std::vector<StoredPrice>> saved = SavePriceBatch(*db, quotes);
        EXPECT_TRUE(saved.ok()) << saved.status();
        if (!saved.ok()) return 0;
        for (const StoredPrice& p : *saved) {
          rows.push_back({p.quote.symbol, 5, p.quote.price, p.quote.timestamp, p.price_point_id});
        }
        quotes.clear();
      }
    }
    if (rows.size() >= 5000) {
      EXPECT_TRUE(averages.SaveAverages(rows).ok());
      rows.clear();
    }
  }
  EXPECT_TRUE(averages.SaveAverages(rows).ok());
  auto lease = MustAcquire(*db);
  *lease << "DELETE FROM price_event_outbox";  // acknowledged by the broker
  *lease << "VACUUM ANALYZE";
  double total = 0;
  for (const char* table : {"raw_market_data", "price_points", "moving_averages"}) {
    long long bytes = 0;
    *lease << absl::StrCat("SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) "
                           "FROM pg_inherits WHERE inhparent = '", table, "'::regclass"),
        soci::into(bytes);
    const double per_price = static_cast<double>(bytes) / (kSymbols * kSeconds);
    std::printf("  %-16s %7.1f B a price\n", table, per_price);
    total += per_price;
  }
  std::printf("  total            %7.1f B a price (%zu prices a write)\n", total, batch);
  return total;
}

TEST(StorageCostTest, TestRepliesCostAtMost500BytesAPrice) {
  EXPECT_LE(BytesPerPrice(TestReply, 32), 496);
}

TEST(StorageCostTest, YahooRepliesCostAtMost1000BytesAPrice) {
  EXPECT_LE(BytesPerPrice(YahooReply, 32), 996);
}

}  // namespace
}  // namespace marketdata
