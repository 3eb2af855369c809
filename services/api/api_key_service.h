// ApiKeyService over gRPC: key administration for callers with the admin scope.
#ifndef MARKETDATA_SERVICES_API_API_KEY_SERVICE_H_
#define MARKETDATA_SERVICES_API_API_KEY_SERVICE_H_

#include "proto/marketdata/v1/api_keys.grpc.pb.h"
#include "services/auth/authorizer.h"
#include "services/auth/key_admin.h"

namespace marketdata {

class ApiKeyServiceImpl final : public v1::ApiKeyService::Service {
 public:
  ApiKeyServiceImpl(KeyAdmin& admin, Authorizer& auth) : admin_(admin), auth_(auth) {}

  grpc::Status CreateApiKey(grpc::ServerContext* context, const v1::CreateApiKeyRequest* request,
                            v1::CreateApiKeyResponse* response) override;
  grpc::Status ListApiKeys(grpc::ServerContext* context, const v1::ListApiKeysRequest* request,
                           v1::ListApiKeysResponse* response) override;
  grpc::Status RevokeApiKey(grpc::ServerContext* context, const v1::RevokeApiKeyRequest* request,
                            v1::ApiKey* response) override;
  grpc::Status SetApiKeyQuotas(grpc::ServerContext* context,
                               const v1::SetApiKeyQuotasRequest* request,
                               v1::ApiKey* response) override;

 private:
  // PERMISSION_DENIED while keys are not required; otherwise the admin scope.
  absl::Status CheckAdmin(const grpc::ServerContextBase& context);

  KeyAdmin& admin_;
  Authorizer& auth_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_API_API_KEY_SERVICE_H_
