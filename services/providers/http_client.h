// HttpClient: the one outbound HTTP call the providers need (GET with a timeout), behind an
// interface so provider tests can script replies without a network.
#ifndef MARKETDATA_SERVICES_PROVIDERS_HTTP_CLIENT_H_
#define MARKETDATA_SERVICES_PROVIDERS_HTTP_CLIENT_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace marketdata {

struct HttpResponse {
  long status = 0;  // NOLINT(runtime/int): libcurl reports the status as a long
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Any HTTP status is a response; only a failure to get one (connection refused, timeout, TLS
  // error, oversized reply) is an error, always UNAVAILABLE. Error messages never contain the
  // URL's query string, which carries API keys. Thread-safe.
  virtual absl::StatusOr<HttpResponse> Get(const std::string& url, absl::Duration timeout) = 0;
};

// libcurl behind HttpClient. Keeps a few idle handles so connections to a provider are reused.
class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient();
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  absl::StatusOr<HttpResponse> Get(const std::string& url, absl::Duration timeout) override;

  static constexpr size_t kMaxBodyBytes = 4 << 20;

 private:
  void* TakeHandle();
  void ReturnHandle(void* handle);

  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);  // CURL* easy handles
};

// Percent-encodes everything but RFC 3986 unreserved characters, for a path segment or a query
// value.
std::string UrlEncode(absl::string_view text);

// `url` without its query string and fragment: what may appear in messages and logs.
std::string UrlWithoutQuery(absl::string_view url);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_HTTP_CLIENT_H_
