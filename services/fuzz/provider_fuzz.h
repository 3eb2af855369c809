// Shared by the provider reply fuzz targets: how a fuzz input becomes an HTTP reply, and the
// checks every FetchQuote result must pass, whatever the reply was.
//
// Input layout: byte 0 picks the HTTP status, byte 1 the API key the provider is configured
// with, the rest is the reply body. Seeds start with "00" (status 200, the realistic key), so
// a seed file reads as "00" followed by a provider's JSON.
#ifndef MARKETDATA_SERVICES_FUZZ_PROVIDER_FUZZ_H_
#define MARKETDATA_SERVICES_FUZZ_PROVIDER_FUZZ_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/domain/quote.h"

namespace marketdata {
namespace fuzz {

struct ProviderReplyInput {
  long status = 200;  // NOLINT(runtime/int): HttpResponse's type
  std::string api_key;
  std::string body;
};

// `realistic_key` is used for selector values 0 and 1 (most inputs); 2 and 3 pick short keys
// that collide with JSON syntax and escapes ("zq", "u0041"), which drive the redaction's
// fallback paths.
ProviderReplyInput SplitProviderInput(const uint8_t* data, size_t size,
                                      absl::string_view realistic_key);

// Aborts (a crash to libFuzzer, a failure to the regression test) unless `result` keeps the
// PriceProvider contract (services/providers/provider.h) and can go down the pipeline:
//   - an error is NOT_FOUND, RESOURCE_EXHAUSTED or UNAVAILABLE, with a message that is valid
//     UTF-8 (it is stored as a polling job's last_error, a PostgreSQL text);
//   - a quote has the requested symbol, the provider's name, a finite positive price and a
//     raw_response that is valid JSON PostgreSQL's jsonb takes (no NUL character, "\u0000");
//   - a quote's PriceEvent passes the consumer's DecodePriceEvent and CheckPriceEvent: a price
//     mds-api stores and publishes is one the moving averages take, not one parked;
//   - `api_key` (when not empty) appears in neither the raw_response nor the error message.
void CheckProviderResult(const absl::StatusOr<Quote>& result, absl::string_view provider,
                         absl::string_view symbol, absl::string_view api_key);

// Prints "ERROR: provider contract broken: <what>" and the offending value to stderr, then
// aborts.
[[noreturn]] void Fail(absl::string_view what, absl::string_view detail);

}  // namespace fuzz
}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_FUZZ_PROVIDER_FUZZ_H_
