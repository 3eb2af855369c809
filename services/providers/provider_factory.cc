#include "services/providers/provider_factory.h"

#include <algorithm>
#include <limits>
#include <memory>
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

std::unique_ptr<PriceProvider> Guarded(std::unique_ptr<PriceProvider> provider,
                                       double per_minute, const ProviderSettings& settings) {
  GuardOptions options;
  options.per_minute = per_minute;
  options.burst = std::min(per_minute, kMaxBurst);
  options.max_retries = settings.max_retries;
  options.provider_timeout = settings.timeout;
  return std::make_unique<GuardedProvider>(std::move(provider), std::move(options));
}

absl::Status ReadBaseUrl(Settings& settings, const std::string& name, std::string& url) {
  url = settings.GetString(name, url);
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "=\"", url, "\" must start with http:// or https://"));
  }
  return absl::OkStatus();
}

absl::Status ReadPerMinute(Settings& settings, const std::string& name, double& per_minute) {
  absl::StatusOr<double> value =
      settings.GetDouble(name, per_minute, kMinPerMinute, kMaxPerMinute);
  if (!value.ok()) return value.status();
  per_minute = *value;
  return absl::OkStatus();
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

absl::StatusOr<ProviderSettings> LoadProviderSettings(Settings& settings) {
  ProviderSettings out;
  out.alpha_vantage_api_key = settings.GetString("ALPHA_VANTAGE_API_KEY", "");
  out.finnhub_api_key = settings.GetString("FINNHUB_API_KEY", "");
  for (auto [name, url] : {std::pair{"ALPHA_VANTAGE_BASE_URL", &out.alpha_vantage_base_url},
                           std::pair{"FINNHUB_BASE_URL", &out.finnhub_base_url},
                           std::pair{"YFINANCE_BASE_URL", &out.yfinance_base_url}}) {
    if (absl::Status ok = ReadBaseUrl(settings, name, *url); !ok.ok()) return ok;
  }
  for (auto [name, rate] :
       {std::pair{"ALPHA_VANTAGE_RATE_LIMIT_PER_MINUTE", &out.alpha_vantage_per_minute},
        std::pair{"FINNHUB_RATE_LIMIT_PER_MINUTE", &out.finnhub_per_minute},
        std::pair{"YFINANCE_RATE_LIMIT_PER_MINUTE", &out.yfinance_per_minute}}) {
    if (absl::Status ok = ReadPerMinute(settings, name, *rate); !ok.ok()) return ok;
  }
  absl::StatusOr<int64_t> timeout_ms = settings.GetInt(
      "PROVIDER_TIMEOUT_MS", absl::ToInt64Milliseconds(out.timeout), 1, 120000);
  if (!timeout_ms.ok()) return timeout_ms.status();
  out.timeout = absl::Milliseconds(*timeout_ms);
  absl::StatusOr<int64_t> retries = settings.GetInt("PROVIDER_MAX_RETRIES", out.max_retries, 0, 10);
  if (!retries.ok()) return retries.status();
  out.max_retries = static_cast<int>(*retries);
  const bool seeded = settings.Find("TEST_PROVIDER_SEED").has_value();
  absl::StatusOr<int64_t> seed =
      settings.GetInt("TEST_PROVIDER_SEED", 0, 0, std::numeric_limits<int64_t>::max());
  if (!seed.ok()) return seed.status();
  if (seeded) out.test_seed = static_cast<uint64_t>(*seed);
  return out;
}

}  // namespace marketdata
