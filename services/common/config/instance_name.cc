#include "services/common/config/instance_name.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace marketdata {

absl::string_view ListenPort(absl::string_view listen_address) {
  const size_t colon = listen_address.rfind(':');
  return colon == absl::string_view::npos ? absl::string_view() : listen_address.substr(colon + 1);
}

std::string HostAndPort(absl::string_view listen_address) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, ":", ListenPort(listen_address));
}

}  // namespace marketdata
