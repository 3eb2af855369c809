#include "services/providers/provider_factory.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "services/providers/fake_http_client.h"
#include "services/providers/fake_http_server.h"

namespace marketdata {
namespace {

TEST(LoadProviderSettingsTest, DefaultsWithoutAnySetting) {
  Settings settings = Settings::FromMap({});
  auto loaded = ProviderSettingsTable().Load(settings);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->network.at("alpha_vantage").api_key, "");
  EXPECT_EQ(loaded->network.at("finnhub").api_key, "");
  EXPECT_EQ(loaded->network.at("alpha_vantage").base_url, "https://www.alphavantage.co");
  EXPECT_EQ(loaded->network.at("finnhub").base_url, "https://finnhub.io");
  EXPECT_EQ(loaded->network.at("yfinance").base_url, "https://query1.finance.yahoo.com");
  EXPECT_EQ(loaded->network.at("alpha_vantage").per_minute, 5);
  EXPECT_EQ(loaded->network.at("finnhub").per_minute, 60);
  EXPECT_EQ(loaded->network.at("yfinance").per_minute, 60);
  EXPECT_EQ(loaded->timeout, absl::Seconds(5));
  EXPECT_EQ(loaded->max_retries, 2);
  EXPECT_FALSE(loaded->test_seed.has_value());
  EXPECT_EQ(loaded->default_provider, "test");
}

TEST(LoadProviderSettingsTest, ReadsEverySetting) {
  Settings settings = Settings::FromMap({{"ALPHA_VANTAGE_API_KEY", "av"},
                                         {"FINNHUB_API_KEY", "fh"},
                                         {"ALPHA_VANTAGE_BASE_URL", "http://127.0.0.1:1"},
                                         {"FINNHUB_BASE_URL", "http://127.0.0.1:2"},
                                         {"YFINANCE_BASE_URL", "https://127.0.0.1:3"},
                                         {"ALPHA_VANTAGE_RATE_LIMIT_PER_MINUTE", "0.5"},
                                         {"FINNHUB_RATE_LIMIT_PER_MINUTE", "30"},
                                         {"YFINANCE_RATE_LIMIT_PER_MINUTE", "120"},
                                         {"PROVIDER_TIMEOUT_MS", "250"},
                                         {"PROVIDER_MAX_RETRIES", "0"},
                                         {"TEST_PROVIDER_SEED", "42"},
                                         {"DEFAULT_PROVIDER", "finnhub"}});
  auto loaded = ProviderSettingsTable().Load(settings);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->network.at("alpha_vantage").api_key, "av");
  EXPECT_EQ(loaded->network.at("finnhub").api_key, "fh");
  EXPECT_EQ(loaded->network.at("alpha_vantage").base_url, "http://127.0.0.1:1");
  EXPECT_EQ(loaded->network.at("finnhub").base_url, "http://127.0.0.1:2");
  EXPECT_EQ(loaded->network.at("yfinance").base_url, "https://127.0.0.1:3");
  EXPECT_EQ(loaded->network.at("alpha_vantage").per_minute, 0.5);
  EXPECT_EQ(loaded->network.at("finnhub").per_minute, 30);
  EXPECT_EQ(loaded->network.at("yfinance").per_minute, 120);
  EXPECT_EQ(loaded->timeout, absl::Milliseconds(250));
  EXPECT_EQ(loaded->max_retries, 0);
  EXPECT_EQ(loaded->test_seed, 42u);
  EXPECT_EQ(loaded->default_provider, "finnhub");
}

TEST(LoadProviderSettingsTest, BadValuesNameTheSetting) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"ALPHA_VANTAGE_BASE_URL", "www.alphavantage.co"},
           {"FINNHUB_BASE_URL", "ftp://finnhub.io"},
           {"YFINANCE_BASE_URL", "yahoo"},
           {"ALPHA_VANTAGE_RATE_LIMIT_PER_MINUTE", "0"},
           {"FINNHUB_RATE_LIMIT_PER_MINUTE", "-1"},
           {"YFINANCE_RATE_LIMIT_PER_MINUTE", "fast"},
           {"PROVIDER_TIMEOUT_MS", "0"},
           {"PROVIDER_TIMEOUT_MS", "5s"},
           {"PROVIDER_MAX_RETRIES", "-1"},
           {"PROVIDER_MAX_RETRIES", "100"},
           {"TEST_PROVIDER_SEED", "abc"},
           {"TEST_PROVIDER_SEED", "-3"}}) {
    Settings settings = Settings::FromMap({{name, value}});
    auto loaded = ProviderSettingsTable().Load(settings);
    ASSERT_FALSE(loaded.ok()) << name << "=" << value;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(loaded.status().message().find(name), absl::string_view::npos) << loaded.status();
  }
}

TEST(LoadProviderSettingsTest, FlagsOverrideTheEnvironment) {
  char prog[] = "prog";
  char flag[] = "--finnhub-rate-limit-per-minute=7";
  char* argv[] = {prog, flag};
  Settings settings = Settings::FromProcess(2, argv);
  auto loaded = ProviderSettingsTable().Load(settings);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->network.at("finnhub").per_minute, 7);
}

TEST(AddDefaultProvidersTest, AddsAllFourGuarded) {
  ProviderSettings settings;
  settings.network["finnhub"].api_key = "fh";
  settings.test_seed = 1;
  FakeHttpClient http;
  ProviderRegistry registry("test");
  AddDefaultProviders(settings, http, registry);

  std::vector<std::string> names;
  for (PriceProvider* provider : registry.providers()) {
    names.push_back(provider->name());
    EXPECT_TRUE(provider->stats().has_value()) << provider->name();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"test", "alpha_vantage", "finnhub", "yfinance"}));

  EXPECT_TRUE((*registry.Find("test"))->FetchQuote("AAPL").ok());
  EXPECT_EQ((*registry.Find("test"))->stats()->rate_limit_per_minute, 0);
  EXPECT_FALSE((*registry.Find("alpha_vantage"))->configured());
  EXPECT_TRUE((*registry.Find("finnhub"))->configured());
  EXPECT_TRUE((*registry.Find("yfinance"))->configured());
  EXPECT_EQ((*registry.Find("alpha_vantage"))->stats()->rate_limit_per_minute, 5);
  EXPECT_EQ((*registry.Find("alpha_vantage"))->stats()->tokens_available, 5);
  // The whole minute's calls may go at once: never more than the provider allows in 60 s.
  EXPECT_EQ((*registry.Find("finnhub"))->stats()->tokens_available, 60);
}

TEST(AddDefaultProvidersTest, GuardedProvidersReachTheirBaseUrlsAndHonourTheLimit) {
  FakeHttpServer server;
  server.Reply("/api/v1/quote", 200, R"({"c":261.74,"t":1727380801})");
  server.Reply("/query", 200, R"({"Global Quote":{"05. price":"189.1000"}})");
  server.Reply("/v8/finance/chart/AAPL", 200,
               R"({"chart":{"result":[{"meta":{"regularMarketPrice":189.5}}],"error":null}})");
  ProviderSettings settings;
  settings.network["alpha_vantage"].api_key = "av";
  settings.network["finnhub"].api_key = "fh";
  settings.network["alpha_vantage"].base_url = server.base_url();
  settings.network["finnhub"].base_url = server.base_url();
  settings.network["yfinance"].base_url = server.base_url();
  settings.network["alpha_vantage"].per_minute = 1;
  CurlHttpClient http;
  ProviderRegistry registry("test");
  AddDefaultProviders(settings, http, registry);

  EXPECT_DOUBLE_EQ((*registry.Find("finnhub"))->FetchQuote("AAPL")->price, 261.74);
  EXPECT_DOUBLE_EQ((*registry.Find("yfinance"))->FetchQuote("AAPL")->price, 189.5);
  PriceProvider* alpha_vantage = *registry.Find("alpha_vantage");
  EXPECT_DOUBLE_EQ(alpha_vantage->FetchQuote("IBM")->price, 189.1);
  auto limited = alpha_vantage->FetchQuote("IBM");
  EXPECT_EQ(limited.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StartsWith(limited.status().message(), "alpha_vantage: 1 call a minute used"))
      << limited.status();
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(ProviderSpecsTest, EveryNetworkProviderHasItsRowsAndARegistryEntry) {
  const std::vector<SettingDoc> docs = ProviderSettingsTable().Docs();
  auto listed = [&docs](const std::string& name) {
    return std::any_of(docs.begin(), docs.end(),
                       [&name](const SettingDoc& doc) { return doc.name == name; });
  };
  FakeHttpClient http;
  ProviderRegistry registry("test");
  AddDefaultProviders(ProviderSettings(), http, registry);
  ASSERT_EQ(registry.providers().size(), ProviderSpecs().size());
  for (size_t i = 0; i < ProviderSpecs().size(); ++i) {
    const ProviderSpec& spec = ProviderSpecs()[i];
    EXPECT_EQ(registry.providers()[i]->name(), spec.name);
    if (!spec.network.has_value()) continue;
    const std::string& prefix = spec.network->env_prefix;
    EXPECT_EQ(listed(prefix + "_API_KEY"), spec.network->takes_api_key) << spec.name;
    EXPECT_TRUE(listed(prefix + "_BASE_URL")) << spec.name;
    EXPECT_TRUE(listed(prefix + "_RATE_LIMIT_PER_MINUTE")) << spec.name;
    EXPECT_TRUE(listed(prefix + "_RATE_LIMIT_PER_DAY")) << spec.name;
    EXPECT_TRUE(listed(prefix + "_MIN_REFRESH_SECONDS")) << spec.name;
  }
}

// The defaults are the providers' own free plans: Alpha Vantage's 5 a minute and 25 a day, and
// never a burst beyond them.
TEST(ProviderSpecsTest, DefaultsAreTheProvidersOwnLimits) {
  FakeHttpClient http;
  ProviderRegistry registry("test");
  AddDefaultProviders(ProviderSettings(), http, registry);
  PriceProvider* alpha = *registry.Find("alpha_vantage");
  std::optional<ProviderStats> stats = alpha->stats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->rate_limit_per_minute, 5);
  EXPECT_EQ(stats->tokens_available, 5);
  EXPECT_EQ(stats->rate_limit_per_day, 25);
  EXPECT_EQ(stats->calls_left_today, 25);
  ASSERT_TRUE(stats->circuit.has_value());
  EXPECT_EQ(*stats->circuit, CircuitBreaker::State::kClosed);
  EXPECT_EQ(alpha->min_refresh(), absl::ZeroDuration());
  std::optional<ProviderStats> finnhub = (*registry.Find("finnhub"))->stats();
  EXPECT_EQ(finnhub->rate_limit_per_minute, 60);
  EXPECT_EQ(finnhub->rate_limit_per_day, 0);
  EXPECT_EQ(finnhub->calls_left_today, -1);
  // The offline provider has neither limits nor a breaker.
  std::optional<ProviderStats> test = (*registry.Find("test"))->stats();
  EXPECT_FALSE(test->circuit.has_value());
}

TEST(ProviderSpecsTest, DailyLimitsFloorsAndTheBreakerAreSettings) {
  absl::StatusOr<ProviderSettings> loaded = ProviderSettingsTable().Load(
      Settings::FromMap({{"ALPHA_VANTAGE_RATE_LIMIT_PER_DAY", "500"},
                         {"ALPHA_VANTAGE_MIN_REFRESH_SECONDS", "3456"},
                         {"PROVIDER_BREAKER_FAILURES", "0"},
                         {"PROVIDER_BREAKER_COOLDOWN_MS", "250"}}));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const ProviderSettings& settings = *loaded;
  EXPECT_EQ(settings.network.at("alpha_vantage").per_day, 500);
  EXPECT_EQ(settings.network.at("alpha_vantage").min_refresh, absl::Seconds(3456));
  EXPECT_EQ(settings.breaker_failures, 0);
  EXPECT_EQ(settings.breaker_cool_down, absl::Milliseconds(250));
  FakeHttpClient http;
  ProviderRegistry registry("test");
  AddDefaultProviders(settings, http, registry);
  EXPECT_EQ((*registry.Find("alpha_vantage"))->min_refresh(), absl::Seconds(3456));
  EXPECT_FALSE((*registry.Find("alpha_vantage"))->stats()->circuit.has_value());
  EXPECT_FALSE(ProviderSettingsTable()
                   .Load(Settings::FromMap({{"ALPHA_VANTAGE_RATE_LIMIT_PER_DAY", "-1"}}))
                   .ok());
  EXPECT_FALSE(ProviderSettingsTable()
                   .Load(Settings::FromMap({{"FINNHUB_MIN_REFRESH_SECONDS", "abc"}}))
                   .ok());
}

}  // namespace
}  // namespace marketdata
