#include "services/api/price_service.h"

#include "services/common/errors.h"
#include "services/common/proto_time.h"

namespace marketdata {

grpc::Status PriceServiceImpl::GetLatestPrice(grpc::ServerContext* context,
                                              const v1::GetLatestPriceRequest* request,
                                              v1::Price* response) {
  absl::StatusOr<StoredPrice> stored = recorder_.Record(request->symbol(), request->provider());
  if (!stored.ok()) return ToGrpcStatus(stored.status(), context);
  response->set_symbol(stored->quote.symbol);
  response->set_price(stored->quote.price);
  ToProtoTimestamp(stored->quote.timestamp, response->mutable_timestamp());
  response->set_provider(stored->quote.provider);
  return grpc::Status::OK;
}

grpc::Status PriceServiceImpl::ListProviders(grpc::ServerContext*,
                                             const v1::ListProvidersRequest*,
                                             v1::ListProvidersResponse* response) {
  for (PriceProvider* provider : providers_.providers()) {
    v1::ProviderStatus* status = response->add_providers();
    status->set_name(provider->name());
    status->set_configured(provider->configured());
    status->set_is_default(provider->name() == providers_.default_provider());
  }
  return grpc::Status::OK;
}

}  // namespace marketdata
