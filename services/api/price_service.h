// PriceService over gRPC: thin translation between protos and the pricing logic.
#ifndef MARKETDATA_SERVICES_API_PRICE_SERVICE_H_
#define MARKETDATA_SERVICES_API_PRICE_SERVICE_H_

#include "proto/marketdata/v1/price.grpc.pb.h"
#include "services/pricing/price_recorder.h"
#include "services/providers/registry.h"
#include "services/storage/price_store.h"

namespace marketdata {

class PriceServiceImpl final : public v1::PriceService::Service {
 public:
  PriceServiceImpl(PriceRecorder& recorder, ProviderRegistry& providers, PriceHistory& history)
      : recorder_(recorder), providers_(providers), history_(history) {}

  grpc::Status GetLatestPrice(grpc::ServerContext* context,
                              const v1::GetLatestPriceRequest* request,
                              v1::Price* response) override;
  grpc::Status ListPriceHistory(grpc::ServerContext* context,
                                const v1::ListPriceHistoryRequest* request,
                                v1::ListPriceHistoryResponse* response) override;
  grpc::Status ListProviders(grpc::ServerContext* context,
                             const v1::ListProvidersRequest* request,
                             v1::ListProvidersResponse* response) override;

 private:
  PriceRecorder& recorder_;
  ProviderRegistry& providers_;
  PriceHistory& history_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_API_PRICE_SERVICE_H_
