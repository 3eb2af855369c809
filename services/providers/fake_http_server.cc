#include "services/providers/fake_http_server.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace marketdata {

FakeHttpServer::FakeHttpServer() {
  // A connection per request: idle keep-alive connections would hold up stop() by seconds.
  server_.set_keep_alive_max_count(1);
  server_.Get(".*", [this](const httplib::Request& request, httplib::Response& response) {
    Serve(request, response);
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) std::abort();
  thread_ = std::thread([this] { server_.listen_after_bind(); });
}

FakeHttpServer::~FakeHttpServer() {
  shutting_down_.Notify();  // releases hanging handlers
  // stop() only takes effect once the accept loop runs; it starts right after the thread does.
  while (!server_.is_running()) std::this_thread::yield();
  server_.stop();
  thread_.join();
}

std::string FakeHttpServer::base_url() const { return absl::StrCat("http://127.0.0.1:", port_); }

void FakeHttpServer::Serve(const httplib::Request& request, httplib::Response& response) {
  Request seen;
  seen.path = request.path;
  for (const auto& [name, value] : request.params) {
    if (!seen.query.empty()) seen.query += '&';
    absl::StrAppend(&seen.query, name, "=", value);
  }
  seen.user_agent = request.get_header_value("User-Agent");
  Handler handler;
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(std::move(seen));
    for (const auto& [path, h] : routes_) {
      if (path == request.path) handler = h;
    }
  }
  if (!handler) {
    response.status = 404;
    response.set_content("no reply scripted for this path", "text/plain");
    return;
  }
  handler(response);
}

void FakeHttpServer::Route(const std::string& path, Handler handler) {
  absl::MutexLock lock(&mu_);
  routes_.emplace_back(path, std::move(handler));  // the last one for a path wins
}

void FakeHttpServer::Reply(const std::string& path, int status, const std::string& body,
                           const std::string& content_type) {
  Route(path, [status, body, content_type](httplib::Response& response) {
    response.status = status;
    response.set_content(body, content_type.c_str());
  });
}

void FakeHttpServer::Hang(const std::string& path) {
  Route(path, [this](httplib::Response& response) {
    shutting_down_.WaitForNotification();
    response.status = 200;
    response.set_content("{}", "application/json");
  });
}

void FakeHttpServer::Redirect(const std::string& path, const std::string& location) {
  Route(path, [location](httplib::Response& response) { response.set_redirect(location); });
}

std::vector<FakeHttpServer::Request> FakeHttpServer::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

}  // namespace marketdata
