// MovingAverageStore: what the consumer reads and writes, and what MovingAverageService serves.
#ifndef MARKETDATA_SERVICES_STORAGE_MOVING_AVERAGE_STORE_H_
#define MARKETDATA_SERVICES_STORAGE_MOVING_AVERAGE_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/averages/stored_prices.h"
#include "services/domain/price_point.h"
#include "services/common/runtime/thread_pool.h"
#include "services/storage/database.h"

namespace marketdata {

struct AverageQuery {
  std::string symbol;
  int window = 5;
  std::optional<absl::Time> start;  // inclusive
  std::optional<absl::Time> end;    // exclusive
  int limit = 100;
  std::string page_token;
};

struct AveragePage {
  std::vector<AverageRow> averages;  // newest first
  std::string next_page_token;
};

// The averaging logic reads stored prices through StoredPrices (LoadNeighbours).
class MovingAverageStore : public StoredPrices {
 public:
  // Upserts every row (unique per symbol, window and price point). Idempotent: after a failure,
  // part of the rows may be written, and saving the same rows again completes them.
  virtual absl::Status SaveAverages(const std::vector<AverageRow>& rows) = 0;

  virtual absl::StatusOr<std::optional<AverageRow>> Latest(const std::string& symbol,
                                                           int window) = 0;
  virtual absl::StatusOr<AveragePage> List(const AverageQuery& query) = 0;
  // The newest `limit` prices of a symbol, newest first.
  virtual absl::StatusOr<std::vector<PricePoint>> RecentPrices(const std::string& symbol,
                                                               int limit) = 0;
};

class PostgresMovingAverageStore final : public MovingAverageStore {
 public:
  // SaveAverages splits a large batch by symbol over up to `write_connections` sessions written
  // at once, each part in one transaction: one PostgreSQL backend works on one core.
  explicit PostgresMovingAverageStore(Database& db, int write_connections = 1);

  absl::StatusOr<std::vector<Neighbours>> LoadNeighbours(const std::vector<PointRef>& points,
                                                         size_t limit) override;
  absl::Status SaveAverages(const std::vector<AverageRow>& rows) override;
  absl::StatusOr<std::optional<AverageRow>> Latest(const std::string& symbol,
                                                   int window) override;
  absl::StatusOr<AveragePage> List(const AverageQuery& query) override;
  absl::StatusOr<std::vector<PricePoint>> RecentPrices(const std::string& symbol,
                                                       int limit) override;

 private:
  absl::Status SavePart(const std::vector<const AverageRow*>& rows);

  Database& db_;
  const int write_connections_;
  std::unique_ptr<ThreadPool> writers_;  // the parts beyond the caller's own
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_MOVING_AVERAGE_STORE_H_
