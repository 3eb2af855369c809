#include "services/events/price_headers.h"

#include "services/kafka/kafka_client.h"

namespace marketdata {

void WritePriceHeaders(const PriceHeaders& h, RdKafka::Headers* headers) {
  if (!h.content_type.empty()) headers->add(kContentTypeHeader, h.content_type);
  if (!h.origin.request_id.empty()) headers->add(kRequestIdKey, h.origin.request_id);
  if (!h.origin.traceparent.empty()) headers->add(kTraceparentKey, h.origin.traceparent);
}

PriceHeaders ReadPriceHeaders(RdKafka::Message& message) {
  PriceHeaders h;
  h.content_type = KafkaHeader(message, kContentTypeHeader);
  h.origin =
      RequestContext::From(KafkaHeader(message, kRequestIdKey), KafkaHeader(message, kTraceparentKey));
  return h;
}

}  // namespace marketdata
