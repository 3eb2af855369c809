#include "services/common/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace marketdata {
namespace {
constexpr char kReasonPayloadUrl[] = "marketdata/error-reason";
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

grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContextBase* context) {
  if (status.ok()) return grpc::Status::OK;
  if (context != nullptr) {
    if (auto reason = ReasonOf(status); reason.has_value()) {
      context->AddTrailingMetadata(kErrorReasonKey, *reason);
    }
  }
  // absl::StatusCode and grpc::StatusCode share their numeric values by design.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace marketdata
