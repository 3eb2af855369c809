// BarStore: OHLCV bars in PostgreSQL (table bars), written batch by batch by the bar handler and
// read by BarService. A batch's bars are merged where the stored bars allow it (one statement,
// nothing read); the others are read, planned, recomputed where needed and written in one
// transaction that holds their rows. Two writers of the same bars never interleave: a merge
// waits for a row another writer holds and checks it again, and a bar planned from no row is
// only inserted, so a row merged meanwhile fails that transaction (ABORTED, tried again).
#ifndef MARKETDATA_SERVICES_STORAGE_BAR_STORE_H_
#define MARKETDATA_SERVICES_STORAGE_BAR_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/domain/bar.h"
#include "services/storage/database.h"

namespace marketdata {

struct BarQuery {
  std::string symbol;
  int interval_seconds = 60;
  std::optional<absl::Time> start;  // bars starting at or after
  std::optional<absl::Time> end;    // bars starting before
  int limit = 100;
  std::string page_token;  // from a previous page
};

struct BarPage {
  std::vector<Bar> bars;  // newest first
  std::string next_page_token;
};

class BarStore {
 public:
  virtual ~BarStore() = default;

  // Given the stored bars of `keys` (missing: none yet), what to write.
  using Planner = std::function<BarPlan(const absl::flat_hash_map<BarKey, Bar>& current)>;

  // In one transaction: reads and locks the stored bars of `keys`, asks `plan`, recomputes the
  // planned bars from price_points and writes them all. Returns every bar written.
  virtual absl::StatusOr<std::vector<Bar>> Update(const std::vector<BarKey>& keys,
                                                  const Planner& plan) = 0;
  // Merges mergeable deltas (see PlanDeltas) into the stored bars in one statement, without
  // reading them first: a delta is added where the stored bar counts none of its prices (its
  // max_id is below the delta's open_id) or stored as it is where there is no bar yet. Returns
  // the bars as stored now; a key missing from them was left as it was, for Update.
  virtual absl::StatusOr<std::vector<Bar>> Merge(const std::vector<Bar>& deltas) = 0;
  // INVALID_ARGUMENT for a malformed page token.
  virtual absl::StatusOr<BarPage> List(const BarQuery& query) = 0;
};

class PostgresBarStore final : public BarStore {
 public:
  explicit PostgresBarStore(Database& db) : db_(db) {}

  absl::StatusOr<std::vector<Bar>> Update(const std::vector<BarKey>& keys,
                                          const Planner& plan) override;
  absl::StatusOr<std::vector<Bar>> Merge(const std::vector<Bar>& deltas) override;
  absl::StatusOr<BarPage> List(const BarQuery& query) override;

 private:
  Database& db_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_BAR_STORE_H_
