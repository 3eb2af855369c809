// The providers this service offers, as one table of specs (ProviderSpecs()): each row names a
// provider, the settings it reads and how it is built from them. The settings table embedded in
// mds-api's (ProviderSettingsTable()) and the registry (MakeProviderRegistry()) are both derived
// from it, so adding a provider is adding one row in provider_factory.cc.
#ifndef MARKETDATA_SERVICES_PROVIDERS_PROVIDER_FACTORY_H_
#define MARKETDATA_SERVICES_PROVIDERS_PROVIDER_FACTORY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/config/settings_table.h"
#include "services/providers/daily_call_ledger.h"
#include "services/providers/http_client.h"
#include "services/providers/provider.h"
#include "services/providers/registry.h"

namespace marketdata {

// The own settings of one network provider: <PREFIX>_API_KEY (when it takes one),
// <PREFIX>_BASE_URL, <PREFIX>_RATE_LIMIT_PER_MINUTE, <PREFIX>_RATE_LIMIT_PER_DAY and
// <PREFIX>_MIN_REFRESH_SECONDS.
struct NetworkProviderSettings {
  std::string api_key;  // empty: the provider answers UNAVAILABLE naming the missing setting
  std::string base_url;
  // Outbound calls a minute, never more in any 60 s; calls a UTC day (0: no daily limit).
  double per_minute = 0;
  int64_t per_day = 0;
  // The refresh floor: a quote younger than this is reused instead of calling again.
  absl::Duration min_refresh = absl::ZeroDuration();
};

// Every provider setting. A default-constructed one holds the table's defaults, so code that
// builds a ProviderSettings directly gets what an unconfigured process gets.
struct ProviderSettings {
  ProviderSettings();

  std::string default_provider = "test";  // what a request naming none gets
  // Keyed by provider name: one entry for every network provider of ProviderSpecs().
  std::map<std::string, NetworkProviderSettings> network;
  // One HTTP call; a whole FetchQuote, retries included, gets timeout × (max_retries + 1).
  absl::Duration timeout = absl::Seconds(5);
  int max_retries = 2;
  // Consecutive failed calls that open a network provider's circuit (0: never), and how long it
  // stays open before a probe.
  int breaker_failures = 5;
  absl::Duration breaker_cool_down = absl::Seconds(5);
  std::optional<uint64_t> test_seed;

  // The most a whole FetchQuote may take, retries included.
  absl::Duration call_budget() const { return timeout * (max_retries + 1); }
};

// One row of the provider table.
struct ProviderSpec {
  // What a network provider reads, and the defaults. Its setting names start with `env_prefix`.
  struct Network {
    std::string title;       // "Alpha Vantage": how --help names it
    std::string env_prefix;  // "ALPHA_VANTAGE"
    bool takes_api_key = false;
    std::string base_url;          // default of <PREFIX>_BASE_URL
    std::string base_url_meaning;  // its line in --help
    double per_minute = 0;         // default of <PREFIX>_RATE_LIMIT_PER_MINUTE
    int64_t per_day = 0;           // default of <PREFIX>_RATE_LIMIT_PER_DAY
  };
  // What a provider is built from. `own` is the provider's entry of `settings.network` (empty
  // for the test provider).
  struct Inputs {
    HttpClient& http;
    const ProviderSettings& settings;
    const NetworkProviderSettings& own;
  };

  std::string name;                // what requests name; the provider's name()
  std::optional<Network> network;  // nullopt: offline (test), never limited nor retried
  std::function<std::unique_ptr<PriceProvider>(const Inputs&)> make;
};

// Every provider, in registry order: test, alpha_vantage, finnhub, yfinance.
const std::vector<ProviderSpec>& ProviderSpecs();

// Adds every provider of ProviderSpecs(): the test provider unlimited and without retries, the
// network ones each behind a GuardedProvider with its rate limit. `http` must outlive `registry`.
// Providers without their API key are added anyway: they answer UNAVAILABLE naming the missing
// setting.
// `ledger` (may be null: each process counts alone, from 0 at its start) counts the daily quotas'
// calls across processes and restarts; it must outlive `registry`.
void AddDefaultProviders(const ProviderSettings& settings, HttpClient& http,
                         ProviderRegistry& registry, DailyCallLedger* ledger = nullptr);

// A registry of every provider, defaulting to settings.default_provider; INVALID_ARGUMENT
// "DEFAULT_PROVIDER: unknown provider ..." when that names none. `http` must outlive it.
absl::StatusOr<std::unique_ptr<ProviderRegistry>> MakeProviderRegistry(
    const ProviderSettings& settings, HttpClient& http, DailyCallLedger* ledger = nullptr);

// DEFAULT_PROVIDER, then each network provider's <PREFIX>_API_KEY, <PREFIX>_BASE_URL,
// <PREFIX>_RATE_LIMIT_PER_MINUTE, <PREFIX>_RATE_LIMIT_PER_DAY and <PREFIX>_MIN_REFRESH_SECONDS
// (grouped by kind), PROVIDER_TIMEOUT_MS, PROVIDER_MAX_RETRIES, PROVIDER_BREAKER_FAILURES,
// PROVIDER_BREAKER_COOLDOWN_MS and TEST_PROVIDER_SEED. A binary embeds it in its own table (EmbeddedSettings) rather than loading
// it alone, so that its unknown-flag check sees every setting.
const SettingTable<ProviderSettings>& ProviderSettingsTable();

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_PROVIDER_FACTORY_H_
