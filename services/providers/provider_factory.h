// The composition of the providers this service offers: their settings (a table embedded in the
// settings table of mds-api), and the registry filled with the test provider and the guarded
// HTTP providers.
#ifndef MARKETDATA_SERVICES_PROVIDERS_PROVIDER_FACTORY_H_
#define MARKETDATA_SERVICES_PROVIDERS_PROVIDER_FACTORY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/settings_table.h"
#include "services/providers/http_client.h"
#include "services/providers/registry.h"

namespace marketdata {

// The defaults here are the table's defaults, so code that builds a ProviderSettings directly
// gets what an unconfigured process gets.
struct ProviderSettings {
  std::string alpha_vantage_api_key, finnhub_api_key;
  std::string alpha_vantage_base_url = "https://www.alphavantage.co",
              finnhub_base_url = "https://finnhub.io",
              yfinance_base_url = "https://query1.finance.yahoo.com";
  // Outbound calls a minute; the burst after a quiet spell is min(limit, 10) calls.
  double alpha_vantage_per_minute = 5, finnhub_per_minute = 60, yfinance_per_minute = 60;
  // One HTTP call; a whole FetchQuote, retries included, gets timeout × (max_retries + 1).
  absl::Duration timeout = absl::Seconds(5);
  int max_retries = 2;
  // The most a whole FetchQuote may take, retries included.
  absl::Duration call_budget() const { return timeout * (max_retries + 1); }
  std::optional<uint64_t> test_seed;
};

// Adds `test` (no limit, no retries), `alpha_vantage`, `finnhub` and `yfinance` (each behind a
// GuardedProvider). `http` must outlive `registry`. Providers without their API key are added
// anyway: they answer UNAVAILABLE naming the missing setting.
void AddDefaultProviders(const ProviderSettings& settings, HttpClient& http,
                         ProviderRegistry& registry);

// ALPHA_VANTAGE_API_KEY, FINNHUB_API_KEY, {ALPHA_VANTAGE,FINNHUB,YFINANCE}_BASE_URL,
// {ALPHA_VANTAGE,FINNHUB,YFINANCE}_RATE_LIMIT_PER_MINUTE, PROVIDER_TIMEOUT_MS,
// PROVIDER_MAX_RETRIES and TEST_PROVIDER_SEED. A binary embeds it in its own table
// (EmbeddedSettings) rather than loading it alone, so that its unknown-flag check sees every
// setting.
const SettingTable<ProviderSettings>& ProviderSettingsTable();

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_PROVIDER_FACTORY_H_
