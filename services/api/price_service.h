// PriceService over gRPC: thin translation between protos and the pricing logic.
#ifndef MARKETDATA_SERVICES_API_PRICE_SERVICE_H_
#define MARKETDATA_SERVICES_API_PRICE_SERVICE_H_

#include "proto/marketdata/v1/events.pb.h"
#include "proto/marketdata/v1/price.grpc.pb.h"
#include "services/auth/authorizer.h"
#include "services/pricing/price_recorder.h"
#include "services/storage/snapshot_store.h"
#include "services/providers/registry.h"
#include "services/storage/price_store.h"
#include "services/streaming/stream_hub.h"

namespace marketdata {

using PriceHub = StreamHub<v1::Price>;

// Feeds the live price streams; the conflation key is the symbol.
void PublishPrice(PriceHub& hub, const StoredPrice& price);

// GetLatestPrice and StreamPrices use gRPC's callback API: a request waiting for its commit or a
// stream waiting for prices holds no thread. The other calls are short reads on the sync API.
class PriceServiceImpl final
    : public v1::PriceService::WithCallbackMethod_GetLatestPrice<
          v1::PriceService::WithCallbackMethod_StreamPrices<v1::PriceService::Service>> {
 public:
  // Every call needs the read scope when keys are required.
  PriceServiceImpl(PriceRecorder& recorder, ProviderRegistry& providers, PriceHistory& history,
                   SnapshotStore& snapshots, PriceHub& hub, Authorizer& auth)
      : recorder_(recorder),
        providers_(providers),
        history_(history),
        snapshots_(snapshots),
        hub_(hub),
        auth_(auth) {}

  grpc::ServerUnaryReactor* GetLatestPrice(grpc::CallbackServerContext* context,
                                           const v1::GetLatestPriceRequest* request,
                                           v1::Price* response) override;
  grpc::Status ListPriceHistory(grpc::ServerContext* context,
                                const v1::ListPriceHistoryRequest* request,
                                v1::ListPriceHistoryResponse* response) override;
  grpc::ServerWriteReactor<v1::Price>* StreamPrices(
      grpc::CallbackServerContext* context, const v1::StreamPricesRequest* request) override;
  grpc::Status ListProviders(grpc::ServerContext* context,
                             const v1::ListProvidersRequest* request,
                             v1::ListProvidersResponse* response) override;
  grpc::Status GetSnapshot(grpc::ServerContext* context, const v1::GetSnapshotRequest* request,
                           v1::Snapshot* response) override;

 private:
  PriceRecorder& recorder_;
  ProviderRegistry& providers_;
  PriceHistory& history_;
  SnapshotStore& snapshots_;
  PriceHub& hub_;
  Authorizer& auth_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_API_PRICE_SERVICE_H_
