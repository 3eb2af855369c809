// The metrics mds-api exports: read from the parts' own counters when Prometheus scrapes.
#ifndef MARKETDATA_SERVICES_API_API_METRICS_H_
#define MARKETDATA_SERVICES_API_API_METRICS_H_

#include "services/api/price_service.h"
#include "services/common/metrics/metrics.h"
#include "services/events/kafka_publisher.h"
#include "services/polling/scheduler.h"
#include "services/pricing/price_recorder.h"
#include "services/providers/registry.h"
#include "services/storage/outbox_backlog.h"
#include "services/storage/price_writer.h"

namespace marketdata {

// Every argument must outlive `metrics`.
void ExportApiMetrics(MetricsExporter& metrics, const PriceRecorder& recorder,
                      const PriceWriter& writer,
                      const KafkaPriceEventPublisher& publisher, const PollingScheduler& scheduler,
                      const PriceHub& price_hub, const ProviderRegistry& providers,
                      const OutboxBacklogMonitor& outbox);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_API_API_METRICS_H_
