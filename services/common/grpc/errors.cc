#include "services/common/grpc/errors.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace marketdata {
namespace {
constexpr char kReasonPayloadUrl[] = "marketdata/error-reason";
constexpr char kRetryPayloadUrl[] = "marketdata/retry-advice";

int64_t WholeSeconds(absl::Duration d) {
  return std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1))));
}
}  // namespace

absl::Status MissingFieldError(absl::string_view field) {
  return WithReason(absl::InvalidArgumentError(absl::StrCat(field, " is required")),
                    kReasonMissingField);
}

absl::Status WithReason(absl::Status status, absl::string_view reason) {
  status.SetPayload(kReasonPayloadUrl, absl::Cord(reason));
  return status;
}

std::optional<std::string> ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

absl::Status WithRetryAdvice(absl::Status status, RetryAdvice advice) {
  status.SetPayload(kRetryPayloadUrl,
                    absl::Cord(absl::StrCat(absl::ToInt64Milliseconds(advice.retry_after), " ",
                                            advice.limit)));
  return status;
}

std::optional<RetryAdvice> RetryAdviceOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  std::pair<std::string, std::string> parts =
      absl::StrSplit(std::string(*payload), absl::MaxSplits(' ', 1));
  int64_t ms = 0, limit = 0;
  if (!absl::SimpleAtoi(parts.first, &ms) || !absl::SimpleAtoi(parts.second, &limit)) {
    return std::nullopt;
  }
  return RetryAdvice{absl::Milliseconds(ms), limit};
}

grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContextBase* context) {
  if (status.ok()) return grpc::Status::OK;
  if (context != nullptr) {
    if (auto reason = ReasonOf(status); reason.has_value()) {
      context->AddTrailingMetadata(kErrorReasonKey, *reason);
    }
    if (auto advice = RetryAdviceOf(status); advice.has_value()) {
      const std::string seconds = absl::StrCat(WholeSeconds(advice->retry_after));
      context->AddTrailingMetadata(kRetryAfterKey, seconds);
      if (advice->limit > 0) {
        context->AddTrailingMetadata(kRateLimitLimitKey, absl::StrCat(advice->limit));
        context->AddTrailingMetadata(kRateLimitRemainingKey, "0");
        context->AddTrailingMetadata(kRateLimitResetKey, seconds);
      }
    }
  }
  // absl::StatusCode and grpc::StatusCode share their numeric values by design.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

std::string WaitText(absl::Duration wait) {
  return absl::StrFormat("%.1f s", std::ceil(absl::ToDoubleSeconds(wait) * 10) / 10);
}

}  // namespace marketdata
