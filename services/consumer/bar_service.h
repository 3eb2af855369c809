// BarService over gRPC: stored OHLCV bars and their live stream.
#ifndef MARKETDATA_SERVICES_CONSUMER_BAR_SERVICE_H_
#define MARKETDATA_SERVICES_CONSUMER_BAR_SERVICE_H_

#include <vector>

#include "proto/marketdata/v1/bars.grpc.pb.h"
#include "services/auth/authorizer.h"
#include "services/domain/bar.h"
#include "services/storage/bar_store.h"
#include "services/streaming/stream_hub.h"

namespace marketdata {

using BarHub = StreamHub<v1::Bar>;

// Feeds committed bars to the live streams; the conflation key is symbol, interval and start.
void PublishBars(BarHub& hub, const std::vector<Bar>& bars);

class BarServiceImpl final
    : public v1::BarService::WithCallbackMethod_StreamBars<v1::BarService::Service> {
 public:
  // `intervals`: the bar widths the consumer computes, in seconds; the first is the default.
  BarServiceImpl(BarStore& store, std::vector<int> intervals, BarHub& hub, Authorizer& auth)
      : store_(store), intervals_(std::move(intervals)), hub_(hub), auth_(auth) {}

  grpc::Status ListBars(grpc::ServerContext* context, const v1::ListBarsRequest* request,
                        v1::ListBarsResponse* response) override;
  grpc::ServerWriteReactor<v1::Bar>* StreamBars(grpc::CallbackServerContext* context,
                                                const v1::StreamBarsRequest* request) override;

 private:
  // The request's interval in seconds: the default when empty, INVALID_ARGUMENT when malformed
  // or not computed.
  absl::StatusOr<int> Interval(const std::string& text) const;

  BarStore& store_;
  const std::vector<int> intervals_;
  BarHub& hub_;
  Authorizer& auth_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_BAR_SERVICE_H_
