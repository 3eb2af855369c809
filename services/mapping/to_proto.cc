#include "services/mapping/to_proto.h"

#include "services/bars/bars.h"
#include "services/common/grpc/proto_time.h"

namespace marketdata {

void ToProto(const StoredPrice& price, v1::Price* out) {
  out->set_symbol(price.quote.symbol);
  out->set_price(price.quote.price);
  ToProtoTimestamp(price.quote.timestamp, out->mutable_timestamp());
  out->set_provider(price.quote.provider);
}

void ToProto(const AverageRow& row, v1::MovingAverage* out) {
  out->set_symbol(row.symbol);
  out->set_window(row.window);
  out->set_value(row.value);
  ToProtoTimestamp(row.timestamp, out->mutable_timestamp());
}

void ToProto(const Bar& bar, v1::Bar* out) {
  out->set_symbol(bar.key.symbol);
  out->set_interval(BarIntervalName(bar.key.interval_seconds));
  ToProtoTimestamp(bar.key.start, out->mutable_start_time());
  ToProtoTimestamp(bar.key.start + absl::Seconds(bar.key.interval_seconds),
                   out->mutable_end_time());
  out->set_open(bar.open);
  out->set_high(bar.high);
  out->set_low(bar.low);
  out->set_close(bar.close);
  out->set_price_count(bar.price_count);
  if (bar.volume.has_value()) out->set_volume(*bar.volume);
}

}  // namespace marketdata
