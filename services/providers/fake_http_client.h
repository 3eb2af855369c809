// FakeHttpClient: an HttpClient for tests that answers every GET with one scripted reply (or
// error) and remembers the URLs it was asked for.
#ifndef MARKETDATA_SERVICES_PROVIDERS_FAKE_HTTP_CLIENT_H_
#define MARKETDATA_SERVICES_PROVIDERS_FAKE_HTTP_CLIENT_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/providers/http_client.h"

namespace marketdata {

class FakeHttpClient final : public HttpClient {
 public:
  void Reply(long status, std::string body);  // NOLINT(runtime/int)
  void Fail(absl::Status status);

  absl::StatusOr<HttpResponse> Get(const std::string& url, absl::Duration timeout) override;

  std::vector<std::string> urls() const;

 private:
  mutable absl::Mutex mu_;
  absl::StatusOr<HttpResponse> next_ ABSL_GUARDED_BY(mu_) = HttpResponse{200, "{}"};
  std::vector<std::string> urls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_FAKE_HTTP_CLIENT_H_
