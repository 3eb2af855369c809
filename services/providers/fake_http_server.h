// FakeHttpServer: a local HTTP server on 127.0.0.1 for tests, serving scripted replies shaped like
// the real providers' ones. Ready as soon as it is constructed: the socket listens before the
// constructor returns, so no test needs to wait for it.
#ifndef MARKETDATA_SERVICES_PROVIDERS_FAKE_HTTP_SERVER_H_
#define MARKETDATA_SERVICES_PROVIDERS_FAKE_HTTP_SERVER_H_

#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "httplib.h"

namespace marketdata {

class FakeHttpServer {
 public:
  struct Request {
    std::string path;
    std::string query;  // decoded `name=value` pairs joined with '&', in the order received
    std::string user_agent;
  };

  FakeHttpServer();
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  // "http://127.0.0.1:<port>"
  std::string base_url() const;

  // Every GET of `path` answers `status` with `body` (replacing an earlier reply for `path`).
  void Reply(const std::string& path, int status, const std::string& body,
             const std::string& content_type = "application/json");
  // Every GET of `path` is held until the server is destroyed: for client timeouts.
  void Hang(const std::string& path);
  // Every GET of `path` redirects to `location`.
  void Redirect(const std::string& path, const std::string& location);

  std::vector<Request> requests() const;

 private:
  using Handler = std::function<void(httplib::Response&)>;
  void Route(const std::string& path, Handler handler);
  void Serve(const httplib::Request& request, httplib::Response& response);

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  absl::Notification shutting_down_;
  mutable absl::Mutex mu_;
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, Handler>> routes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_FAKE_HTTP_SERVER_H_
