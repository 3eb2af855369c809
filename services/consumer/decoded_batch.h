// The first step of committing a batch of price-events records: decode and check each record once
// (DecodePriceEvent), into the prices the handlers take, the records to park with their reason,
// and the count of those older than the late window. Pure: no Kafka, no clock.
#ifndef MARKETDATA_SERVICES_CONSUMER_DECODED_BATCH_H_
#define MARKETDATA_SERVICES_CONSUMER_DECODED_BATCH_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "services/domain/quote.h"
#include "services/events/price_headers.h"

namespace marketdata {

// One record as read from the topic.
struct ConsumedRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  PriceHeaders headers;
};

struct DecodedBatch {
  std::vector<StoredPrice> prices;  // in record order
  std::vector<const ConsumedRecord*> sources;  // sources[i] carried prices[i]
  // Records no handler may take, with the reason: they go to the dead-letter topic.
  std::vector<std::pair<const ConsumedRecord*, std::string>> rejected;
  // Records whose price is older than the late window: skipped, their offsets committed with the
  // batch (the service stores no such quote, so averages and bars before it are final).
  int64_t sealed = 0;
};

// `late_window` zero: nothing is sealed. The result points into `records`.
DecodedBatch DecodeBatch(const std::vector<ConsumedRecord>& records, absl::Time now,
                         absl::Duration late_window);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_DECODED_BATCH_H_
