// The secret part of API keys: making a new key and hashing one. Keys are 256 random bits, so a
// single SHA-256 (no salt, no stretching) is enough to store them: nothing can be guessed.
#ifndef MARKETDATA_SERVICES_AUTH_KEY_MATERIAL_H_
#define MARKETDATA_SERVICES_AUTH_KEY_MATERIAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace marketdata {

// "mds_" and 64 lowercase hex digits from the operating system's random source.
absl::StatusOr<std::string> NewApiKey();

// Lowercase hex SHA-256 of `key`: what is stored and looked up.
std::string HashApiKey(absl::string_view key);

// The key a call carries: "Authorization: Bearer <key>" or "X-API-Key: <key>" (gRPC metadata
// keys authorization and x-api-key). Empty when neither is present; INVALID_ARGUMENT-free on
// purpose: anything unusable simply is no key (the caller answers UNAUTHENTICATED).
std::string KeyFromCredentials(absl::string_view authorization, absl::string_view x_api_key);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_AUTH_KEY_MATERIAL_H_
