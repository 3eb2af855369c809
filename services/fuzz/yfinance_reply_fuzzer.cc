// Fuzz target: YFinanceProvider::FetchQuote on an arbitrary HTTP reply (status and body), fed
// through the fake HttpClient. See provider_fuzz.h for the input layout and the checks.
// Yahoo Finance takes no API key: byte 1 is read but has no effect.
#include <cstddef>
#include <cstdint>

#include "services/fuzz/provider_fuzz.h"
#include "services/providers/fake_http_client.h"
#include "services/providers/yfinance_provider.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketdata;  // NOLINT(build/namespaces)
  const fuzz::ProviderReplyInput in = fuzz::SplitProviderInput(data, size, "");
  FakeHttpClient http;
  http.Reply(in.status, in.body);
  YFinanceProvider provider(http, "https://fuzz.example");
  const absl::StatusOr<Quote> quote = provider.FetchQuote("AAPL");
  fuzz::CheckProviderResult(quote, "yfinance", "AAPL", "");
  return 0;
}
