// MovingAverageService over gRPC: stored and on-demand averages, and their live stream.
#ifndef MARKETDATA_SERVICES_CONSUMER_MOVING_AVERAGE_SERVICE_H_
#define MARKETDATA_SERVICES_CONSUMER_MOVING_AVERAGE_SERVICE_H_

#include <vector>

#include "proto/marketdata/v1/moving_average.grpc.pb.h"
#include "services/auth/authorizer.h"
#include "services/averages/symbol_window.h"
#include "services/storage/moving_average_store.h"
#include "services/streaming/stream_hub.h"

namespace marketdata {

using MovingAverageHub = StreamHub<v1::MovingAverage>;

// Feeds committed averages to the live streams; the conflation key is symbol and window.
void PublishAverages(MovingAverageHub& hub, const std::vector<AverageRow>& rows);

class MovingAverageServiceImpl final
    : public v1::MovingAverageService::WithCallbackMethod_StreamMovingAverages<
          v1::MovingAverageService::Service> {
 public:
  // `windows`: the windows the consumer computes and stores.
  // Every call needs the read scope when keys are required.
  MovingAverageServiceImpl(MovingAverageStore& store, std::vector<int> windows,
                           MovingAverageHub& hub, Authorizer& auth)
      : store_(store), windows_(std::move(windows)), hub_(hub), auth_(auth) {}

  grpc::Status GetLatestMovingAverage(grpc::ServerContext* context,
                                      const v1::GetLatestMovingAverageRequest* request,
                                      v1::MovingAverage* response) override;
  grpc::Status ListMovingAverages(grpc::ServerContext* context,
                                  const v1::ListMovingAveragesRequest* request,
                                  v1::ListMovingAveragesResponse* response) override;
  grpc::ServerWriteReactor<v1::MovingAverage>* StreamMovingAverages(
      grpc::CallbackServerContext* context,
      const v1::StreamMovingAveragesRequest* request) override;

 private:
  bool IsConfigured(int window) const;

  MovingAverageStore& store_;
  const std::vector<int> windows_;
  MovingAverageHub& hub_;
  Authorizer& auth_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_MOVING_AVERAGE_SERVICE_H_
