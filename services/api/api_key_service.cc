#include "services/api/api_key_service.h"

#include <string>
#include <vector>

#include "services/common/grpc/errors.h"
#include "services/common/grpc/proto_time.h"

namespace marketdata {
namespace {

KeyQuotas FromProto(const v1::ApiKeyQuotas& in) {
  KeyQuotas quotas;
  if (in.has_requests_per_minute()) quotas.requests_per_minute = in.requests_per_minute();
  if (in.has_max_jobs()) quotas.max_jobs = in.max_jobs();
  if (in.has_max_symbols()) quotas.max_symbols = in.max_symbols();
  return quotas;
}

void ToProto(const ApiKey& key, v1::ApiKey* out) {
  out->set_name(key.name);
  for (const std::string& scope : key.scopes.Names()) out->add_scopes(scope);
  v1::ApiKeyQuotas* quotas = out->mutable_quotas();
  if (key.quotas.requests_per_minute) {
    quotas->set_requests_per_minute(*key.quotas.requests_per_minute);
  }
  if (key.quotas.max_jobs) quotas->set_max_jobs(*key.quotas.max_jobs);
  if (key.quotas.max_symbols) quotas->set_max_symbols(*key.quotas.max_symbols);
  ToProtoTimestamp(key.created_at, out->mutable_created_at());
  if (key.revoked_at) ToProtoTimestamp(*key.revoked_at, out->mutable_revoked_at());
}

}  // namespace

absl::Status ApiKeyServiceImpl::CheckAdmin(const grpc::ServerContextBase& context) {
  // Without required keys every caller is an admin: keys made then would outlive the day keys
  // are switched on, in whoever's hands.
  if (!auth_.required()) {
    return absl::PermissionDeniedError(
        "ApiKeyService needs REQUIRE_API_KEYS=true; make the first keys with `mds-api keys` "
        "(./deploy/dev keys) from a shell that reaches the database");
  }
  return auth_.Authorize(context, Scope::kAdmin).status();
}

grpc::Status ApiKeyServiceImpl::CreateApiKey(grpc::ServerContext* context,
                                             const v1::CreateApiKeyRequest* request,
                                             v1::CreateApiKeyResponse* response) {
  if (absl::Status s = CheckAdmin(*context); !s.ok()) return ToGrpcStatus(s, context);
  std::vector<std::string> scopes(request->scopes().begin(), request->scopes().end());
  absl::StatusOr<NewKey> created =
      admin_.Create(request->name(), scopes, FromProto(request->quotas()));
  if (!created.ok()) return ToGrpcStatus(created.status(), context);
  ToProto(created->key, response->mutable_key());
  response->set_secret(created->secret);
  return grpc::Status::OK;
}

grpc::Status ApiKeyServiceImpl::ListApiKeys(grpc::ServerContext* context,
                                            const v1::ListApiKeysRequest*,
                                            v1::ListApiKeysResponse* response) {
  if (absl::Status s = CheckAdmin(*context); !s.ok()) return ToGrpcStatus(s, context);
  absl::StatusOr<std::vector<ApiKey>> keys = admin_.List();
  if (!keys.ok()) return ToGrpcStatus(keys.status(), context);
  for (const ApiKey& key : *keys) ToProto(key, response->add_keys());
  return grpc::Status::OK;
}

grpc::Status ApiKeyServiceImpl::RevokeApiKey(grpc::ServerContext* context,
                                             const v1::RevokeApiKeyRequest* request,
                                             v1::ApiKey* response) {
  if (absl::Status s = CheckAdmin(*context); !s.ok()) return ToGrpcStatus(s, context);
  absl::StatusOr<ApiKey> revoked = admin_.Revoke(request->name());
  if (!revoked.ok()) return ToGrpcStatus(revoked.status(), context);
  ToProto(*revoked, response);
  return grpc::Status::OK;
}

grpc::Status ApiKeyServiceImpl::SetApiKeyQuotas(grpc::ServerContext* context,
                                                const v1::SetApiKeyQuotasRequest* request,
                                                v1::ApiKey* response) {
  if (absl::Status s = CheckAdmin(*context); !s.ok()) return ToGrpcStatus(s, context);
  absl::StatusOr<ApiKey> changed = admin_.SetQuotas(request->name(), FromProto(request->quotas()));
  if (!changed.ok()) return ToGrpcStatus(changed.status(), context);
  ToProto(*changed, response);
  return grpc::Status::OK;
}

}  // namespace marketdata
