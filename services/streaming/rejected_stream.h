// A server stream refused before anything was sent: it finishes at once with `status`, so the
// client (and the gateway) sees the error code instead of an empty stream.
#ifndef MARKETDATA_SERVICES_STREAMING_REJECTED_STREAM_H_
#define MARKETDATA_SERVICES_STREAMING_REJECTED_STREAM_H_

#include "grpcpp/grpcpp.h"

namespace marketdata {

template <typename Message>
class RejectedStream final : public grpc::ServerWriteReactor<Message> {
 public:
  explicit RejectedStream(grpc::Status status) { this->Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STREAMING_REJECTED_STREAM_H_
