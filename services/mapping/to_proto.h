// The one mapping of stored values onto API messages, shared by every service that serves them.
#ifndef MARKETDATA_SERVICES_MAPPING_TO_PROTO_H_
#define MARKETDATA_SERVICES_MAPPING_TO_PROTO_H_

#include "proto/marketdata/v1/bars.pb.h"
#include "proto/marketdata/v1/moving_average.pb.h"
#include "proto/marketdata/v1/price.pb.h"
#include "services/domain/bar.h"
#include "services/domain/price_point.h"
#include "services/domain/quote.h"

namespace marketdata {

void ToProto(const StoredPrice& price, v1::Price* out);
void ToProto(const AverageRow& row, v1::MovingAverage* out);
void ToProto(const Bar& bar, v1::Bar* out);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_MAPPING_TO_PROTO_H_
