// Error values shared by every layer, and their single mapping onto gRPC statuses.
//
// Errors travel as absl::Status. A status may carry a machine-readable reason (for example
// "missing-field") that the gateway needs to pick an HTTP status the gRPC code alone cannot
// express (422 for a missing required parameter, as the service this one replaces answered).
#ifndef MARKETDATA_SERVICES_COMMON_GRPC_ERRORS_H_
#define MARKETDATA_SERVICES_COMMON_GRPC_ERRORS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace marketdata {

// Metadata key carrying the reason to clients (sent as trailing metadata).
inline constexpr char kErrorReasonKey[] = "mds-error-reason";
inline constexpr char kReasonMissingField[] = "missing-field";

// An INVALID_ARGUMENT status for a required field that is absent.
absl::Status MissingFieldError(absl::string_view field);

absl::Status WithReason(absl::Status status, absl::string_view reason);
std::optional<std::string> ReasonOf(const absl::Status& status);

// A limit that was reached (RESOURCE_EXHAUSTED): when to retry, and the limit itself. Sent to
// clients as trailing metadata: retry-after (whole seconds, at least 1) and ratelimit-limit,
// ratelimit-remaining (0) and ratelimit-reset (seconds), which the gateway turns into the HTTP
// headers of the same names.
inline constexpr char kRetryAfterKey[] = "retry-after";
inline constexpr char kRateLimitLimitKey[] = "ratelimit-limit";
inline constexpr char kRateLimitRemainingKey[] = "ratelimit-remaining";
inline constexpr char kRateLimitResetKey[] = "ratelimit-reset";
struct RetryAdvice {
  absl::Duration retry_after;
  int64_t limit = 0;  // 0: not a counted limit (no ratelimit-* metadata)
};
absl::Status WithRetryAdvice(absl::Status status, RetryAdvice advice);
std::optional<RetryAdvice> RetryAdviceOf(const absl::Status& status);
// A wait as messages state it: "7.2 s", rounded up to the tenth so that waiting that long is
// enough.
std::string WaitText(absl::Duration wait);

// The one place where absl codes become gRPC codes. `context` (may be null) receives the
// reason as trailing metadata.
grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContextBase* context);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_GRPC_ERRORS_H_
