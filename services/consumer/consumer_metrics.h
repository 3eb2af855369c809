// The metrics mds-consumer exports: read from the consumer's and the hub's counters on scrape.
#ifndef MARKETDATA_SERVICES_CONSUMER_CONSUMER_METRICS_H_
#define MARKETDATA_SERVICES_CONSUMER_CONSUMER_METRICS_H_

#include "services/common/metrics/metrics.h"
#include "services/consumer/bar_handler.h"
#include "services/consumer/moving_average_handler.h"
#include "services/consumer/moving_average_service.h"
#include "services/consumer/price_event_consumer.h"

namespace marketdata {

// Every argument must outlive `metrics`.
void ExportConsumerMetrics(MetricsExporter& metrics, const PriceEventConsumer& consumer,
                           const MovingAverageHandler& averages, const BarHandler& bars,
                           const MovingAverageHub& hub);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_CONSUMER_METRICS_H_
