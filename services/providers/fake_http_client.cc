#include "services/providers/fake_http_client.h"

#include <utility>

namespace marketdata {

void FakeHttpClient::Reply(long status, std::string body) {  // NOLINT(runtime/int)
  absl::MutexLock lock(&mu_);
  next_ = HttpResponse{status, std::move(body)};
}

void FakeHttpClient::Fail(absl::Status status) {
  absl::MutexLock lock(&mu_);
  next_ = std::move(status);
}

absl::StatusOr<HttpResponse> FakeHttpClient::Get(const std::string& url, absl::Duration) {
  absl::MutexLock lock(&mu_);
  urls_.push_back(url);
  return next_;
}

std::vector<std::string> FakeHttpClient::urls() const {
  absl::MutexLock lock(&mu_);
  return urls_;
}

}  // namespace marketdata
