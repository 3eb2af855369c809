// Conversions between absl::Time and google.protobuf.Timestamp (microsecond precision, as
// PostgreSQL stores it).
#ifndef MARKETDATA_SERVICES_COMMON_GRPC_PROTO_TIME_H_
#define MARKETDATA_SERVICES_COMMON_GRPC_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace marketdata {

inline void ToProtoTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t seconds = micros / 1000000;
  int64_t rest = micros % 1000000;
  if (rest < 0) {  // Timestamp wants non-negative nanos
    rest += 1000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rest * 1000));
}

inline absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_GRPC_PROTO_TIME_H_
