#include "services/common/grpc/errors.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(ErrorsTest, CodesMapOneToOne) {
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x"), nullptr).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(absl::ResourceExhaustedError("x"), nullptr).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ToGrpcStatus(absl::UnavailableError("x"), nullptr).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError("bad"), nullptr).error_message(), "bad");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus(), nullptr).ok());
}

TEST(ErrorsTest, MissingFieldCarriesItsReason) {
  absl::Status status = MissingFieldError("symbol");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "symbol is required");
  EXPECT_EQ(ReasonOf(status), kReasonMissingField);
  EXPECT_EQ(ReasonOf(absl::InvalidArgumentError("x")), std::nullopt);
}

}  // namespace
}  // namespace marketdata
