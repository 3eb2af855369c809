#include "services/providers/provider_factory.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/providers/alpha_vantage_provider.h"
#include "services/providers/finnhub_provider.h"
#include "services/providers/guarded_provider.h"
#include "services/providers/test_provider.h"
#include "services/providers/yfinance_provider.h"

namespace marketdata {
namespace {

constexpr double kMaxBurst = 10;
constexpr double kMinPerMinute = 0.001;
constexpr double kMaxPerMinute = 1e6;
constexpr int64_t kMaxTimeoutMs = 120000;

std::unique_ptr<PriceProvider> Guarded(std::unique_ptr<PriceProvider> provider,
                                       double per_minute, const ProviderSettings& settings) {
  GuardOptions options;
  options.per_minute = per_minute;
  options.burst = std::min(per_minute, kMaxBurst);
  options.max_retries = settings.max_retries;
  options.provider_timeout = settings.timeout;
  return std::make_unique<GuardedProvider>(std::move(provider), std::move(options));
}

// A base URL without its scheme is a typo better caught at start-up than on the first call.
SettingRow<ProviderSettings> BaseUrlSetting(std::string name, std::string default_value,
                                            std::string ProviderSettings::*field,
                                            std::string meaning) {
  return CustomSetting<ProviderSettings>(
      std::move(name), std::move(default_value),
      [field](const std::string& name, const std::string& value, ProviderSettings& settings) {
        if (!absl::StartsWith(value, "http://") && !absl::StartsWith(value, "https://")) {
          return absl::InvalidArgumentError(
              absl::StrCat(name, "=\"", value, "\" must start with http:// or https://"));
        }
        settings.*field = value;
        return absl::OkStatus();
      },
      std::move(meaning));
}

SettingRow<ProviderSettings> PerMinuteSetting(std::string name, double default_value,
                                              double ProviderSettings::*field,
                                              const std::string& meaning) {
  return DoubleSetting(std::move(name), default_value, kMinPerMinute, kMaxPerMinute, field,
                       meaning);
}

}  // namespace

void AddDefaultProviders(const ProviderSettings& settings, HttpClient& http,
                         ProviderRegistry& registry) {
  GuardOptions unlimited;
  unlimited.max_retries = 0;
  registry.Add(std::make_unique<GuardedProvider>(std::make_unique<TestProvider>(settings.test_seed),
                                                 std::move(unlimited)));
  registry.Add(Guarded(
      std::make_unique<AlphaVantageProvider>(http, settings.alpha_vantage_base_url,
                                             settings.alpha_vantage_api_key, settings.timeout),
      settings.alpha_vantage_per_minute, settings));
  registry.Add(Guarded(std::make_unique<FinnhubProvider>(http, settings.finnhub_base_url,
                                                         settings.finnhub_api_key,
                                                         settings.timeout),
                       settings.finnhub_per_minute, settings));
  registry.Add(Guarded(
      std::make_unique<YFinanceProvider>(http, settings.yfinance_base_url, settings.timeout),
      settings.yfinance_per_minute, settings));
}

const SettingTable<ProviderSettings>& ProviderSettingsTable() {
  // Defaults come from ProviderSettings itself, so the two cannot disagree.
  static const ProviderSettings* const kDefaults = new ProviderSettings();
  static const auto* const kTable = new SettingTable<ProviderSettings>({
      StringSetting("ALPHA_VANTAGE_API_KEY", kDefaults->alpha_vantage_api_key,
                    &ProviderSettings::alpha_vantage_api_key,
                    "Alpha Vantage API key (empty: the alpha_vantage provider answers "
                    "unavailable)"),
      StringSetting("FINNHUB_API_KEY", kDefaults->finnhub_api_key,
                    &ProviderSettings::finnhub_api_key,
                    "Finnhub API key (empty: the finnhub provider answers unavailable)"),
      BaseUrlSetting("ALPHA_VANTAGE_BASE_URL", kDefaults->alpha_vantage_base_url,
                     &ProviderSettings::alpha_vantage_base_url,
                     "Alpha Vantage base URL, http:// or https:// (tests point it at a local "
                     "fake)"),
      BaseUrlSetting("FINNHUB_BASE_URL", kDefaults->finnhub_base_url,
                     &ProviderSettings::finnhub_base_url, "Finnhub base URL, http:// or https://"),
      BaseUrlSetting("YFINANCE_BASE_URL", kDefaults->yfinance_base_url,
                     &ProviderSettings::yfinance_base_url,
                     "Yahoo Finance chart API base URL (yfinance provider), http:// or https://"),
      PerMinuteSetting("ALPHA_VANTAGE_RATE_LIMIT_PER_MINUTE",
                       kDefaults->alpha_vantage_per_minute,
                       &ProviderSettings::alpha_vantage_per_minute,
                       "Alpha Vantage calls allowed per minute, a token bucket bursting up to 10"),
      PerMinuteSetting("FINNHUB_RATE_LIMIT_PER_MINUTE", kDefaults->finnhub_per_minute,
                       &ProviderSettings::finnhub_per_minute,
                       "Finnhub calls allowed per minute, a token bucket bursting up to 10"),
      PerMinuteSetting("YFINANCE_RATE_LIMIT_PER_MINUTE", kDefaults->yfinance_per_minute,
                       &ProviderSettings::yfinance_per_minute,
                       "Yahoo Finance calls allowed per minute, a token bucket bursting up to 10"),
      CustomSetting<ProviderSettings>(
          "PROVIDER_TIMEOUT_MS", absl::StrCat(absl::ToInt64Milliseconds(kDefaults->timeout)),
          [](const std::string& name, const std::string& value, ProviderSettings& settings) {
            absl::StatusOr<int64_t> ms = ParseIntSetting(name, value, 1, kMaxTimeoutMs);
            if (!ms.ok()) return ms.status();
            settings.timeout = absl::Milliseconds(*ms);
            return absl::OkStatus();
          },
          absl::StrCat("timeout of one provider call, in milliseconds (",
                       RangeText(1, kMaxTimeoutMs), ")")),
      IntSetting("PROVIDER_MAX_RETRIES", kDefaults->max_retries, 0, 10,
                 &ProviderSettings::max_retries,
                 "retries of a provider call that failed transiently, with exponential backoff "
                 "and jitter"),
      CustomSetting<ProviderSettings>(
          "TEST_PROVIDER_SEED", "",
          [](const std::string& name, const std::string& value, ProviderSettings& settings) {
            if (value.empty()) {
              settings.test_seed.reset();
              return absl::OkStatus();
            }
            absl::StatusOr<int64_t> seed =
                ParseIntSetting(name, value, 0, std::numeric_limits<int64_t>::max());
            if (!seed.ok()) return seed.status();
            settings.test_seed = static_cast<uint64_t>(*seed);
            return absl::OkStatus();
          },
          "unset: random; a number makes the test provider's prices reproducible"),
  });
  return *kTable;
}

}  // namespace marketdata
