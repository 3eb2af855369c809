#include "services/api/api_metrics.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace marketdata {
namespace {

// The samples of every provider that keeps statistics (those behind a guard): `add` turns one
// provider's statistics into its samples.
using AddSamples = std::function<void(const std::string& provider, const ProviderStats& stats,
                                      std::vector<MetricSample>& out)>;
std::function<std::vector<MetricSample>()> PerProviderSamples(const ProviderRegistry& providers,
                                                               AddSamples add) {
  return [&providers, add = std::move(add)] {
    std::vector<MetricSample> out;
    for (PriceProvider* p : providers.providers()) {
      if (std::optional<ProviderStats> stats = p->stats(); stats.has_value()) {
        add(p->name(), *stats, out);
      }
    }
    return out;
  };
}

// One series per provider: a field of its statistics.
std::function<std::vector<MetricSample>()> PerProvider(const ProviderRegistry& providers,
                                                        double ProviderStats::*field) {
  return PerProviderSamples(providers, [field](const std::string& provider,
                                               const ProviderStats& stats,
                                               std::vector<MetricSample>& out) {
    out.push_back({{{"provider", provider}}, stats.*field});
  });
}

}  // namespace

void ExportApiMetrics(MetricsExporter& metrics, const PriceRecorder& recorder,
                      const PriceWriter& writer,
                      const KafkaPriceEventPublisher& publisher, const PollingScheduler& scheduler,
                      const PriceHub& price_hub, const ProviderRegistry& providers,
                      const OutboxBacklogMonitor& outbox) {
  using Kind = MetricsExporter::Kind;
  metrics.Add(Kind::kCounter, "mds_prices_recorded_total",
              "Prices fetched, stored and handed to Kafka.",
              [&recorder] { return recorder.recorded(); });
  metrics.Add(Kind::kCounter, "mds_price_failures_total",
              "Price requests that failed (validation, provider or storage).",
              [&recorder] { return recorder.failed(); });
  metrics.AddLabeled(Kind::kCounter, "mds_prices_not_stored_total",
                     "Quotes answered but neither stored nor published: too_old, older than "
                     "LATE_PRICE_WINDOW (averages and bars before it are final); too_new, further "
                     "ahead of now than the partitions made ahead.",
                     [&recorder] {
                       std::vector<MetricSample> out;
                       for (auto why : {AcceptanceWindow::Verdict::kTooOld,
                                        AcceptanceWindow::Verdict::kTooNew}) {
                         out.push_back({{{"reason", std::string(VerdictName(why))}},
                                        static_cast<double>(recorder.not_stored(why))});
                       }
                       return out;
                     });
  metrics.Add(Kind::kCounter, "mds_price_write_batches_total",
              "Commits of the price writer (group commit); prices written over batches is the "
              "mean number of prices a commit carries.",
              [&writer] { return writer.batches(); });
  metrics.Add(Kind::kCounter, "mds_price_write_prices_total",
              "Prices the price writer committed in its batches.",
              [&writer] { return writer.prices_written(); });
  metrics.Add(Kind::kCounter, "mds_events_delivered_total", "PriceEvents acknowledged by Kafka.",
              [&publisher] { return publisher.delivered_count(); });
  metrics.Add(Kind::kCounter, "mds_events_delivery_failures_total",
              "PriceEvents Kafka did not take (left to the outbox relay).",
              [&publisher] { return publisher.failed_count(); });
  metrics.Add(Kind::kGauge, "mds_events_in_flight", "PriceEvents not yet acknowledged.",
              [&publisher] { return publisher.InFlight(); });
  // Read every few seconds in the background; left out while PostgreSQL cannot be read.
  metrics.AddLabeled(Kind::kGauge, "mds_outbox_backlog_rows",
                     "Stored prices whose event Kafka has not acknowledged yet (counted up to "
                     "1,000,000).",
                     [&outbox] {
                       std::vector<MetricSample> out;
                       if (auto b = outbox.last()) out.push_back({{}, static_cast<double>(b->rows)});
                       return out;
                     });
  metrics.AddLabeled(Kind::kGauge, "mds_outbox_oldest_age_seconds",
                     "Age of the oldest stored price whose event Kafka has not acknowledged; 0 "
                     "when none waits.",
                     [&outbox] {
                       std::vector<MetricSample> out;
                       if (auto b = outbox.last()) out.push_back({{}, b->oldest_age_seconds});
                       return out;
                     });
  metrics.AddHistogram("mds_polling_tick_lag_seconds",
                       "How late polling runs started: actual minus planned start.",
                       scheduler.lag_histogram());
  metrics.Add(Kind::kCounter, "mds_polling_tick_writes_refused_total",
              "Prices of a polling tick the database refused to store or record: the tick "
              "already had one for the symbol, or this replica no longer held the job's lease "
              "(it froze or was cut off past it). Nothing of them was stored.",
              [&scheduler] { return scheduler.refused_writes(); });
  metrics.Add(Kind::kGauge, "mds_price_stream_subscribers", "Open StreamPrices calls.",
              [&price_hub] { return price_hub.subscriber_count(); });
  metrics.AddLabeled(Kind::kGauge, "mds_provider_tokens_available",
                     "Outbound requests a provider's rate limit allows right now.",
                     PerProvider(providers, &ProviderStats::tokens_available));
  metrics.AddLabeled(Kind::kCounter, "mds_provider_calls_total",
                     "Calls to a provider by how they ended: ok, not_found, rate_limited (ours "
                     "or the provider's), timeout or error; retries are part of their call.",
                     PerProviderSamples(providers, [](const std::string& provider,
                                                      const ProviderStats& stats,
                                                      std::vector<MetricSample>& out) {
                       for (int i = 0; i < kProviderOutcomes; ++i) {
                         const auto outcome = static_cast<ProviderOutcome>(i);
                         out.push_back({{{"provider", provider},
                                         {"outcome", std::string(ProviderOutcomeName(outcome))}},
                                        static_cast<double>(stats.calls[i])});
                       }
                     }));
  metrics.AddLabeled(Kind::kGauge, "mds_provider_recent_error_ratio",
                     "Share of failed calls among a provider's recent ones.",
                     PerProvider(providers, &ProviderStats::recent_error_rate));
  metrics.AddLabeled(Kind::kGauge, "mds_provider_calls_left_today",
                     "Calls a provider's daily quota still allows today (providers with one).",
                     PerProviderSamples(providers, [](const std::string& provider,
                                                      const ProviderStats& stats,
                                                      std::vector<MetricSample>& out) {
                       if (stats.rate_limit_per_day <= 0) return;
                       out.push_back({{{"provider", provider}},
                                      static_cast<double>(stats.calls_left_today)});
                     }));
  metrics.AddLabeled(Kind::kGauge, "mds_provider_circuit_state",
                     "1 for the state a provider's circuit breaker is in (closed, open, "
                     "half_open), 0 for the others.",
                     PerProviderSamples(providers, [](const std::string& provider,
                                                      const ProviderStats& stats,
                                                      std::vector<MetricSample>& out) {
                       if (!stats.circuit.has_value()) return;
                       for (CircuitBreaker::State state :
                            {CircuitBreaker::State::kClosed, CircuitBreaker::State::kOpen,
                             CircuitBreaker::State::kHalfOpen}) {
                         out.push_back({{{"provider", provider},
                                         {"state", std::string(StateName(state))}},
                                        *stats.circuit == state ? 1.0 : 0.0});
                       }
                     }));
  metrics.AddLabeled(Kind::kCounter, "mds_provider_circuit_opened_total",
                     "Times a provider's circuit opened (a failed probe reopens it).",
                     PerProviderSamples(providers, [](const std::string& provider,
                                                      const ProviderStats& stats,
                                                      std::vector<MetricSample>& out) {
                       if (!stats.circuit.has_value()) return;
                       out.push_back({{{"provider", provider}},
                                      static_cast<double>(stats.circuit_opened)});
                     }));
  metrics.AddLabeled(Kind::kCounter, "mds_price_answers_total",
                     "Latest-price requests and polling fetches by how they were answered: call "
                     "(a provider call they started), shared (another request's call), recent "
                     "(a quote within max_age or the provider's refresh floor, no call).",
                     [&recorder] {
                       const double calls = static_cast<double>(recorder.calls());
                       return std::vector<MetricSample>{
                           {{{"by", "call"}}, calls},
                           {{{"by", "shared"}}, static_cast<double>(recorder.shared())},
                           {{{"by", "recent"}}, static_cast<double>(recorder.reused())}};
                     });
  metrics.Add(Kind::kCounter, "mds_provider_fallbacks_total",
              "Requests passed on to the next provider of their fallback order.",
              [&recorder] { return recorder.fallbacks(); });
}

}  // namespace marketdata
