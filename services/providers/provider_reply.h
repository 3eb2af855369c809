// Helpers the HTTP providers share to read a reply: JSON parsing that never throws, the canonical
// errors for bad replies, and removal of API keys from anything that is stored or reported.
#ifndef MARKETDATA_SERVICES_PROVIDERS_PROVIDER_REPLY_H_
#define MARKETDATA_SERVICES_PROVIDERS_PROVIDER_REPLY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace marketdata {

// Keeps the providers' key order, so a stored reply reads like the one received.
using Json = nlohmann::ordered_json;

// The reply as a JSON object; anything else (HTML, empty, truncated) is UNAVAILABLE
// "<provider> provider returned an unreadable reply".
absl::StatusOr<Json> ParseReplyObject(absl::string_view provider, absl::string_view body);

absl::Status UnreadableReply(absl::string_view provider, absl::string_view why = "");

// UNAVAILABLE for a status the provider should not have sent: "is down" for 5xx, the number
// otherwise.
absl::Status UnexpectedHttpStatus(absl::string_view provider, long status);  // NOLINT

// RESOURCE_EXHAUSTED for a provider that said it is rate limiting us, with retry advice for the
// client: the providers count their limits per minute, so a minute from now.
absl::Status ProviderRateLimited(absl::string_view provider, absl::string_view why);

// The timeout of one HTTP call: `timeout`, cut to what is left before `deadline` (as of `now`);
// UNAVAILABLE when nothing is left.
absl::StatusOr<absl::Duration> CallTimeout(absl::string_view provider, absl::Duration timeout,
                                           absl::Time deadline, absl::Time now);

// UNAVAILABLE unless `price` is finite and positive.
absl::Status CheckPrice(absl::string_view provider, double price);

// `text` with every occurrence of `secret` replaced by "***" (unchanged for an empty secret).
std::string RedactSecret(absl::string_view text, absl::string_view secret);

// What to store as raw_response: `body` (a reply that parsed as `parsed`) with `secret` removed,
// always valid JSON. The text as received when a plain replacement keeps it valid and secret-free;
// otherwise the parsed document with the secret removed from every key and string, re-serialised.
std::string RedactedReply(absl::string_view body, const Json& parsed, absl::string_view secret);

// A provider's own message (a string member of a reply) fit for an error: secret removed,
// control characters dropped, at most 200 characters.
std::string ProviderMessage(const Json& value, absl::string_view secret);

// A quote's time must lie after 1970-01-01T00:00:00Z and at most a day ahead of `now`: what the
// consumer accepts. Anything else is an unreadable reply (UNAVAILABLE), never a stored price.
absl::Status CheckQuoteTime(absl::string_view provider, absl::Time timestamp, absl::Time now);

// The provider's base URL without trailing slashes.
std::string TrimBaseUrl(absl::string_view base_url);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_PROVIDER_REPLY_H_
