// SnapshotStore: what is stored of many symbols at once (the newest price, the newest average of
// each window, the newest bar of each interval), read in three queries.
#ifndef MARKETDATA_SERVICES_STORAGE_SNAPSHOT_STORE_H_
#define MARKETDATA_SERVICES_STORAGE_SNAPSHOT_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/domain/bar.h"
#include "services/domain/price_point.h"
#include "services/domain/quote.h"
#include "services/storage/database.h"

namespace marketdata {

struct SymbolSnapshot {
  std::string symbol;
  StoredPrice price;
  std::vector<AverageRow> averages;  // by window
  std::vector<Bar> bars;             // by interval
};

class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;
  // One entry per symbol that has a stored price, in the order of `symbols`.
  virtual absl::StatusOr<std::vector<SymbolSnapshot>> Snapshot(
      const std::vector<std::string>& symbols) = 0;
};

class PostgresSnapshotStore final : public SnapshotStore {
 public:
  explicit PostgresSnapshotStore(Database& db) : db_(db) {}
  absl::StatusOr<std::vector<SymbolSnapshot>> Snapshot(
      const std::vector<std::string>& symbols) override;

 private:
  Database& db_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_SNAPSHOT_STORE_H_
