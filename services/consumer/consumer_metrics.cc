#include "services/consumer/consumer_metrics.h"

namespace marketdata {

void ExportConsumerMetrics(MetricsExporter& metrics, const PriceEventConsumer& consumer,
                           const MovingAverageHandler& averages, const BarHandler& bars,
                           const MovingAverageHub& hub) {
  using Kind = MetricsExporter::Kind;
  const ConsumerCounters& c = consumer.counters();
  const MovingAverageCounters& a = averages.counters();
  metrics.Add(Kind::kCounter, "mds_consumer_events_total",
              "PriceEvents handled by every handler and committed.",
              [&c] { return c.events.load(); });
  metrics.Add(Kind::kCounter, "mds_consumer_averages_total", "Moving averages written.",
              [&a] { return a.averages.load(); });
  const BarCounters& b = bars.counters();
  metrics.Add(Kind::kCounter, "mds_consumer_bars_written_total",
              "OHLCV bar rows written (a bar still open is written again with each batch).",
              [&b] { return b.bars_written.load(); });
  metrics.Add(Kind::kCounter, "mds_consumer_bars_merged_total",
              "Of the bar rows written, those merged with the stored bar in one statement, "
              "without reading it (the others were read and planned: late, repeated or out of "
              "order within their batch).",
              [&b] { return b.merged.load(); });
  metrics.Add(Kind::kCounter, "mds_consumer_bars_recomputed_total",
              "Bars rebuilt because an event came late or twice (the smallest interval from "
              "price_points, the others from its bars).",
              [&b] { return b.recomputed.load(); });
  metrics.Add(Kind::kCounter, "mds_consumer_dead_letters_total",
              "Records parked on the dead-letter topic.", [&c] { return c.dead_lettered.load(); });
  metrics.Add(Kind::kCounter, "mds_consumer_sealed_events_total",
              "Events skipped because their price is older than LATE_PRICE_WINDOW: averages and "
              "bars before it are final (a replay from long ago, or a consumer that lagged that "
              "far).",
              [&c] { return c.sealed.load(); });
  metrics.Add(Kind::kCounter, "mds_consumer_repaired_events_total",
              "Events averaged from their stored neighbours because they arrived out of the "
              "order the in-memory window can place.",
              [&a] { return a.repaired.load(); });
  metrics.Add(Kind::kCounter, "mds_consumer_batches_total", "Batches committed.",
              [&c] { return c.batches.load(); });
  metrics.Add(Kind::kCounter, "mds_consumer_rebalances_total", "Group rebalances seen.",
              [&c] { return c.rebalances.load(); });
  metrics.Add(Kind::kCounter, "mds_consumer_client_rejoins_total",
              "Times the Kafka client failed for good (a static member fenced, for example) "
              "and a new one joined the group.",
              [&consumer] { return consumer.rejoins(); });
  metrics.Add(Kind::kGauge, "mds_consumer_assigned_partitions",
              "Partitions of price-events this member owns.",
              [&consumer] { return consumer.assigned_partitions(); });
  metrics.AddLabeled(Kind::kGauge, "mds_consumer_lag_messages",
                     "Records of an assigned partition not yet read by this member: high "
                     "watermark minus position.",
                     [&consumer] {
                       std::vector<MetricSample> out;
                       for (const PartitionLag& lag : consumer.Lag()) {
                         out.push_back({{{"topic", lag.topic},
                                         {"partition", std::to_string(lag.partition)}},
                                        static_cast<double>(lag.messages)});
                       }
                       return out;
                     });
  metrics.Add(Kind::kGauge, "mds_consumer_symbol_windows",
              "Symbols whose moving-average windows are kept in memory.",
              [&a] { return a.symbol_windows.load(); });
  metrics.Add(Kind::kGauge, "mds_average_stream_subscribers", "Open StreamMovingAverages calls.",
              [&hub] { return hub.subscriber_count(); });
  metrics.Add(Kind::kCounter, "mds_average_stream_conflated_total",
              "Stream updates replaced by a newer value before a slow client read them.",
              [&hub] { return hub.conflated_count(); });
}

}  // namespace marketdata
