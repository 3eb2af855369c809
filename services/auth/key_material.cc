#include "services/auth/key_material.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace marketdata {

absl::StatusOr<std::string> NewApiKey() {
  std::array<unsigned char, 32> bytes;
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return absl::InternalError("no random bytes for a new API key");
  }
  return "mds_" + absl::BytesToHexString(
                      absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string HashApiKey(absl::string_view key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest;
  unsigned int size = 0;
  EVP_Digest(key.data(), key.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), size));
}

std::string KeyFromCredentials(absl::string_view authorization, absl::string_view x_api_key) {
  authorization = absl::StripAsciiWhitespace(authorization);
  if (authorization.size() > 7 && absl::StartsWithIgnoreCase(authorization, "bearer ")) {
    return std::string(absl::StripAsciiWhitespace(authorization.substr(7)));
  }
  return std::string(absl::StripAsciiWhitespace(x_api_key));
}

}  // namespace marketdata
