// KeyedAuthorizer: an Authorizer that requires API keys, over an in-memory key store, for tests
// of the services' scope checks; and SendKey, which sends a key with a call as clients do.
//
//   KeyedAuthorizer keys_;
//   FooServiceImpl service_{..., keys_.auth()};
//   grpc::ClientContext context;
//   SendKey(context, keys_.AddKey("reader", "read"));
#ifndef MARKETDATA_SERVICES_AUTH_KEYED_AUTHORIZER_H_
#define MARKETDATA_SERVICES_AUTH_KEYED_AUTHORIZER_H_

#include <string>

#include "grpcpp/client_context.h"
#include "services/auth/authorizer.h"
#include "services/auth/fake_api_key_store.h"
#include "services/auth/key_material.h"

namespace marketdata {

class KeyedAuthorizer {
 public:
  explicit KeyedAuthorizer(AuthOptions options = {}) : auth_(&store_, Required(options)) {}

  Authorizer& auth() { return auth_; }
  FakeApiKeyStore& store() { return store_; }

  // Stores an active key called `name` with `scopes` (e.g. "read,write") and returns its secret;
  // the authorizer looks it up on its first use.
  std::string AddKey(const std::string& name, const std::string& scopes,
                     const KeyQuotas& quotas = {}) {
    const std::string secret = "mds_test_" + name;
    absl::StatusOr<ScopeSet> parsed = ParseScopes(scopes);
    if (!parsed.ok() || !store_.Create(name, HashApiKey(secret), *parsed, quotas).ok()) {
      return "";  // an empty key: the call is refused, and the test with it
    }
    return secret;
  }

 private:
  static AuthOptions Required(AuthOptions options) {
    options.required = true;
    return options;
  }

  FakeApiKeyStore store_;
  Authorizer auth_;
};

// Sends `secret` with the call, in the X-API-Key header; an empty one sends no key at all.
inline void SendKey(grpc::ClientContext& context, const std::string& secret) {
  if (!secret.empty()) context.AddMetadata("x-api-key", secret);
}

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_AUTH_KEYED_AUTHORIZER_H_
