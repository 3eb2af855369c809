// The headers of a price-events record, written and read here once: the content type of the
// payload, and the request the price was fetched for (x-request-id, traceparent), so the
// consumer's lines name it too. The publisher writes them, the consumer and the live feed read
// them, and the consumer copies them onto a parked record.
#ifndef MARKETDATA_SERVICES_EVENTS_PRICE_HEADERS_H_
#define MARKETDATA_SERVICES_EVENTS_PRICE_HEADERS_H_

#include <string>

#include "librdkafka/rdkafkacpp.h"
#include "services/common/logging/request_context.h"

namespace marketdata {

inline constexpr char kContentTypeHeader[] = "content-type";

struct PriceHeaders {
  std::string content_type;  // "" when the record has none
  RequestContext origin;     // empty for polling runs
};

// Adds `h` to `headers`: the content type when set, the request id and traceparent when known.
void WritePriceHeaders(const PriceHeaders& h, RdKafka::Headers* headers);
PriceHeaders ReadPriceHeaders(RdKafka::Message& message);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_EVENTS_PRICE_HEADERS_H_
