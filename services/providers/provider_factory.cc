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
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

constexpr double kMinPerMinute = 0.001;
constexpr double kMaxPerMinute = 1e6;
constexpr int64_t kMaxTimeoutMs = 120000;
constexpr int64_t kMaxPerDay = 100000000;
constexpr double kMaxMinRefreshSeconds = 86400;

using Row = SettingRow<ProviderSettings>;

// The row of a network provider's own setting, stored in settings.network[provider].
template <typename Parse>
Row NetworkSetting(const std::string& provider, std::string name, std::string default_value,
                   std::string meaning, Parse parse) {
  return CustomSetting<ProviderSettings>(
      std::move(name), std::move(default_value),
      [provider, parse](const std::string& name, const std::string& value,
                        ProviderSettings& settings) {
        return parse(name, value, settings.network[provider]);
      },
      std::move(meaning));
}

Row ApiKeySetting(const ProviderSpec& spec) {
  return NetworkSetting(
      spec.name, spec.network->env_prefix + "_API_KEY", "",
      absl::StrCat(spec.network->title, " API key (empty: the ", spec.name,
                   " provider answers unavailable)"),
      [](const std::string&, const std::string& value, NetworkProviderSettings& own) {
        own.api_key = value;
        return absl::OkStatus();
      });
}

// A base URL without its scheme is a typo better caught at start-up than on the first call.
Row BaseUrlSetting(const ProviderSpec& spec) {
  return NetworkSetting(
      spec.name, spec.network->env_prefix + "_BASE_URL", spec.network->base_url,
      spec.network->base_url_meaning,
      [](const std::string& name, const std::string& value, NetworkProviderSettings& own) {
        if (!absl::StartsWith(value, "http://") && !absl::StartsWith(value, "https://")) {
          return absl::InvalidArgumentError(
              absl::StrCat(name, "=\"", value, "\" must start with http:// or https://"));
        }
        own.base_url = value;
        return absl::OkStatus();
      });
}

Row PerMinuteSetting(const ProviderSpec& spec) {
  return NetworkSetting(
      spec.name, spec.network->env_prefix + "_RATE_LIMIT_PER_MINUTE",
      absl::StrCat(spec.network->per_minute),
      absl::StrCat(spec.network->title,
                   " calls allowed per minute, never more in any 60 s (",
                   RangeText(kMinPerMinute, kMaxPerMinute), ")"),
      [](const std::string& name, const std::string& value, NetworkProviderSettings& own) {
        absl::StatusOr<double> parsed =
            ParseDoubleSetting(name, value, kMinPerMinute, kMaxPerMinute);
        if (!parsed.ok()) return parsed.status();
        own.per_minute = *parsed;
        return absl::OkStatus();
      });
}

Row PerDaySetting(const ProviderSpec& spec) {
  return NetworkSetting(
      spec.name, spec.network->env_prefix + "_RATE_LIMIT_PER_DAY",
      absl::StrCat(spec.network->per_day),
      absl::StrCat(spec.network->title,
                   " calls allowed per UTC day, counted from 00:00 UTC (0: no daily limit; ",
                   RangeText(0, kMaxPerDay), ")"),
      [](const std::string& name, const std::string& value, NetworkProviderSettings& own) {
        absl::StatusOr<int64_t> parsed = ParseIntSetting(name, value, 0, kMaxPerDay);
        if (!parsed.ok()) return parsed.status();
        own.per_day = *parsed;
        return absl::OkStatus();
      });
}

Row MinRefreshSetting(const ProviderSpec& spec) {
  return NetworkSetting(
      spec.name, spec.network->env_prefix + "_MIN_REFRESH_SECONDS", "0",
      absl::StrCat("seconds: a ", spec.network->title,
                   " quote younger than this is reused instead of calling again, whatever the "
                   "request's max_age (0: only when the request accepts it; ",
                   RangeText(0, kMaxMinRefreshSeconds), ")"),
      [](const std::string& name, const std::string& value, NetworkProviderSettings& own) {
        absl::StatusOr<double> parsed = ParseDoubleSetting(name, value, 0, kMaxMinRefreshSeconds);
        if (!parsed.ok()) return parsed.status();
        own.min_refresh = absl::Seconds(*parsed);
        return absl::OkStatus();
      });
}

// "test, alpha_vantage, finnhub or yfinance".
std::string ProviderNames() {
  std::string names;
  const std::vector<ProviderSpec>& specs = ProviderSpecs();
  for (size_t i = 0; i < specs.size(); ++i) {
    if (i > 0) names += i + 1 == specs.size() ? " or " : ", ";
    names += specs[i].name;
  }
  return names;
}

std::unique_ptr<PriceProvider> Make(const ProviderSpec& spec, const ProviderSettings& settings,
                                    HttpClient& http, DailyCallLedger* ledger) {
  static const NetworkProviderSettings kOffline;
  if (!spec.network.has_value()) {
    GuardOptions unlimited;
    unlimited.max_retries = 0;
    return std::make_unique<GuardedProvider>(spec.make({http, settings, kOffline}),
                                             std::move(unlimited));
  }
  const NetworkProviderSettings& own = settings.network.at(spec.name);
  GuardOptions options;
  options.per_minute = own.per_minute;
  options.per_day = own.per_day;
  options.min_refresh = own.min_refresh;
  options.breaker_failures = settings.breaker_failures;
  options.breaker_cool_down = settings.breaker_cool_down;
  options.max_retries = settings.max_retries;
  options.provider_timeout = settings.timeout;
  options.ledger = ledger;
  auto guarded = std::make_unique<GuardedProvider>(spec.make({http, settings, own}),
                                                   std::move(options));
  if (absl::Status s = guarded->LoadDailyCalls(); !s.ok()) {
    spdlog::warn("provider {}: today's calls could not be read from storage ({}); counting from 0",
                 spec.name, s.ToString());
  }
  return guarded;
}

}  // namespace

const std::vector<ProviderSpec>& ProviderSpecs() {
  using Inputs = ProviderSpec::Inputs;
  static const auto* const kSpecs = new std::vector<ProviderSpec>{
      {"test", std::nullopt,
       [](const Inputs& in) { return std::make_unique<TestProvider>(in.settings.test_seed); }},
      {"alpha_vantage",
       ProviderSpec::Network{"Alpha Vantage", "ALPHA_VANTAGE", true, "https://www.alphavantage.co",
                             "Alpha Vantage base URL, http:// or https:// (tests point it at a "
                             "local fake)",
                             5, 25},
       [](const Inputs& in) {
         return std::make_unique<AlphaVantageProvider>(in.http, in.own.base_url, in.own.api_key,
                                                       in.settings.timeout);
       }},
      {"finnhub",
       ProviderSpec::Network{"Finnhub", "FINNHUB", true, "https://finnhub.io",
                             "Finnhub base URL, http:// or https://", 60, 0},
       [](const Inputs& in) {
         return std::make_unique<FinnhubProvider>(in.http, in.own.base_url, in.own.api_key,
                                                  in.settings.timeout);
       }},
      {"yfinance",
       ProviderSpec::Network{"Yahoo Finance", "YFINANCE", false, "https://query1.finance.yahoo.com",
                             "Yahoo Finance chart API base URL (yfinance provider), http:// or "
                             "https://",
                             60, 0},
       [](const Inputs& in) {
         return std::make_unique<YFinanceProvider>(in.http, in.own.base_url, in.settings.timeout);
       }},
  };
  return *kSpecs;
}

ProviderSettings::ProviderSettings() {
  for (const ProviderSpec& spec : ProviderSpecs()) {
    if (!spec.network.has_value()) continue;
    NetworkProviderSettings& own = network[spec.name];
    own.base_url = spec.network->base_url;
    own.per_minute = spec.network->per_minute;
    own.per_day = spec.network->per_day;
  }
}

void AddDefaultProviders(const ProviderSettings& settings, HttpClient& http,
                         ProviderRegistry& registry, DailyCallLedger* ledger) {
  for (const ProviderSpec& spec : ProviderSpecs()) {
    registry.Add(Make(spec, settings, http, ledger));
  }
}

absl::StatusOr<std::unique_ptr<ProviderRegistry>> MakeProviderRegistry(
    const ProviderSettings& settings, HttpClient& http, DailyCallLedger* ledger) {
  auto registry = std::make_unique<ProviderRegistry>(settings.default_provider);
  AddDefaultProviders(settings, http, *registry, ledger);
  if (absl::Status s = registry->FindChain(settings.default_provider).status(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("DEFAULT_PROVIDER: ", s.message()));
  }
  return registry;
}

const SettingTable<ProviderSettings>& ProviderSettingsTable() {
  static const auto* const kTable = [] {
    // Defaults come from ProviderSettings itself, so the two cannot disagree.
    const ProviderSettings defaults;
    std::vector<Row> rows = {
        StringSetting("DEFAULT_PROVIDER", defaults.default_provider,
                      &ProviderSettings::default_provider,
                      "provider used when a request names none: " + ProviderNames() +
                          ", or a fallback order such as yfinance,finnhub"),
    };
    // Grouped by kind, in table order within each kind.
    for (const ProviderSpec& spec : ProviderSpecs()) {
      if (spec.network.has_value() && spec.network->takes_api_key) {
        rows.push_back(ApiKeySetting(spec));
      }
    }
    for (const ProviderSpec& spec : ProviderSpecs()) {
      if (spec.network.has_value()) rows.push_back(BaseUrlSetting(spec));
    }
    for (const ProviderSpec& spec : ProviderSpecs()) {
      if (spec.network.has_value()) rows.push_back(PerMinuteSetting(spec));
    }
    for (const ProviderSpec& spec : ProviderSpecs()) {
      if (spec.network.has_value()) rows.push_back(PerDaySetting(spec));
    }
    for (const ProviderSpec& spec : ProviderSpecs()) {
      if (spec.network.has_value()) rows.push_back(MinRefreshSetting(spec));
    }
    rows.push_back(MillisecondsSetting("PROVIDER_TIMEOUT_MS",
                                       absl::ToInt64Milliseconds(defaults.timeout), 1,
                                       kMaxTimeoutMs, &ProviderSettings::timeout,
                                       "timeout of one provider call, in milliseconds"));
    rows.push_back(IntSetting("PROVIDER_MAX_RETRIES", defaults.max_retries, 0, 10,
                              &ProviderSettings::max_retries,
                              "retries of a provider call that failed transiently, with "
                              "exponential backoff and jitter"));
    rows.push_back(IntSetting("PROVIDER_BREAKER_FAILURES", defaults.breaker_failures, 0, 1000,
                              &ProviderSettings::breaker_failures,
                              "consecutive failed calls (down, timed out, garbage) that open a "
                              "network provider's circuit: calls then fail fast, or go to the "
                              "next provider of a fallback order (0: never open)"));
    rows.push_back(MillisecondsSetting(
        "PROVIDER_BREAKER_COOLDOWN_MS", absl::ToInt64Milliseconds(defaults.breaker_cool_down), 1,
        3600000, &ProviderSettings::breaker_cool_down,
        "how long an open circuit stays open before one probe call is let through, in "
        "milliseconds; the probe's success closes it"));
    rows.push_back(CustomSetting<ProviderSettings>(
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
        "unset: random; a number makes the test provider's prices reproducible"));
    return new SettingTable<ProviderSettings>({SettingRows<ProviderSettings>(std::move(rows))});
  }();
  return *kTable;
}

}  // namespace marketdata
