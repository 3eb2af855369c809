// Fuzz target: FinnhubProvider::FetchQuote on an arbitrary HTTP reply (status and body), fed
// through the fake HttpClient. See provider_fuzz.h for the input layout and the checks.
#include <cstddef>
#include <cstdint>

#include "services/fuzz/provider_fuzz.h"
#include "services/providers/fake_http_client.h"
#include "services/providers/finnhub_provider.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketdata;  // NOLINT(build/namespaces)
  const fuzz::ProviderReplyInput in = fuzz::SplitProviderInput(data, size, "fhkey_c9q1r2s3");
  FakeHttpClient http;
  http.Reply(in.status, in.body);
  FinnhubProvider provider(http, "https://fuzz.example", in.api_key);
  const absl::StatusOr<Quote> quote = provider.FetchQuote("AAPL");
  fuzz::CheckProviderResult(quote, "finnhub", "AAPL", in.api_key);
  return 0;
}
