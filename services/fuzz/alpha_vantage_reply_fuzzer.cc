// Fuzz target: AlphaVantageProvider::FetchQuote on an arbitrary HTTP reply (status and body), fed
// through the fake HttpClient. See provider_fuzz.h for the input layout and the checks.
#include <cstddef>
#include <cstdint>

#include "services/fuzz/provider_fuzz.h"
#include "services/providers/alpha_vantage_provider.h"
#include "services/providers/fake_http_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketdata;  // NOLINT(build/namespaces)
  const fuzz::ProviderReplyInput in = fuzz::SplitProviderInput(data, size, "AVKEY9Z8Y7");
  FakeHttpClient http;
  http.Reply(in.status, in.body);
  AlphaVantageProvider provider(http, "https://fuzz.example", in.api_key);
  const absl::StatusOr<Quote> quote = provider.FetchQuote("IBM");
  fuzz::CheckProviderResult(quote, "alpha_vantage", "IBM", in.api_key);
  return 0;
}
