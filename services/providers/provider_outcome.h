// How a provider call ended, in the few classes mds_provider_calls_total counts: ok, not_found,
// rate_limited, timeout and error (anything else). A timeout is UNAVAILABLE like any outage, so
// the code alone cannot tell it: the layer that sees it marks the status (MarkedTimeout), and the
// mark travels with the status through the provider that rephrases it (Rephrased).
#ifndef MARKETDATA_SERVICES_PROVIDERS_PROVIDER_OUTCOME_H_
#define MARKETDATA_SERVICES_PROVIDERS_PROVIDER_OUTCOME_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace marketdata {

enum class ProviderOutcome { kOk, kNotFound, kRateLimited, kTimeout, kError };
inline constexpr int kProviderOutcomes = 5;

// "ok", "not_found", "rate_limited", "timeout", "error".
absl::string_view ProviderOutcomeName(ProviderOutcome outcome);

ProviderOutcome OutcomeOf(const absl::Status& status);

// `status` marked as a call that ran out of time (DEADLINE_EXCEEDED is one without the mark).
absl::Status MarkedTimeout(absl::Status status);
bool IsTimeout(const absl::Status& status);

// A status with `status`'s code and marks (payloads) and another message.
absl::Status Rephrased(const absl::Status& status, absl::string_view message);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_PROVIDER_OUTCOME_H_
