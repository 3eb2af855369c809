#include "services/providers/provider_outcome.h"

#include "absl/strings/cord.h"

namespace marketdata {
namespace {

// Never sent to clients: ToGrpcStatus passes on only the reason and the retry advice.
constexpr char kTimeoutPayloadUrl[] = "marketdata/provider-timeout";

}  // namespace

absl::string_view ProviderOutcomeName(ProviderOutcome outcome) {
  switch (outcome) {
    case ProviderOutcome::kOk:
      return "ok";
    case ProviderOutcome::kNotFound:
      return "not_found";
    case ProviderOutcome::kRateLimited:
      return "rate_limited";
    case ProviderOutcome::kTimeout:
      return "timeout";
    case ProviderOutcome::kError:
      break;
  }
  return "error";
}

ProviderOutcome OutcomeOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return ProviderOutcome::kOk;
    case absl::StatusCode::kNotFound:
      return ProviderOutcome::kNotFound;
    case absl::StatusCode::kResourceExhausted:
      return ProviderOutcome::kRateLimited;
    case absl::StatusCode::kDeadlineExceeded:
      return ProviderOutcome::kTimeout;
    default:
      return IsTimeout(status) ? ProviderOutcome::kTimeout : ProviderOutcome::kError;
  }
}

absl::Status MarkedTimeout(absl::Status status) {
  if (!status.ok()) status.SetPayload(kTimeoutPayloadUrl, absl::Cord("1"));
  return status;
}

bool IsTimeout(const absl::Status& status) {
  return status.GetPayload(kTimeoutPayloadUrl).has_value();
}

absl::Status Rephrased(const absl::Status& status, absl::string_view message) {
  absl::Status out(status.code(), message);
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

}  // namespace marketdata
