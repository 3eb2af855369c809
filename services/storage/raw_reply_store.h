// Raw provider replies, read back for audit and reprocessing (`mds-api raw`).
#ifndef MARKETDATA_SERVICES_STORAGE_RAW_REPLY_STORE_H_
#define MARKETDATA_SERVICES_STORAGE_RAW_REPLY_STORE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "services/storage/database.h"
#include "services/storage/raw_replies.h"

namespace marketdata {

// The replies stored in row `raw_id` of raw_market_data (a price's raw_response_id): every reply
// of the write that stored the price, or the one reply of a row from before replies were stored
// together (its quote_time is then when it was stored). NOT_FOUND when there is no such row (its
// partition may be past RAW_RETENTION).
absl::StatusOr<std::vector<RawReply>> LoadRawReplies(Database& db, int64_t raw_id);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_RAW_REPLY_STORE_H_
