// Call logging for gRPC servers: a server interceptor that writes one line per call when it ends
// ("call", with method, code and duration_ms), and makes the call's request id and traceparent
// (x-request-id and traceparent metadata) the RequestContext of the thread that runs its
// handler, so every line the handler logs carries them.
//
// Successful calls are sampled (LOG_CALL_SAMPLE_RATE) by request id, so that every service keeps
// the lines of the same requests; failed calls are always logged, at warn when the failure is the
// server's (INTERNAL, UNAVAILABLE, ...). Health checks and reflection are probes: debug only.
//
// A handler that finishes its call on another thread (the callback API) must carry the context
// there itself (copy CurrentRequestContext() and install it with ScopedRequestContext); the call
// line itself always carries the call's ids, on whichever thread the call ends, and once the call
// has ended the thread its handler ran on no longer names it.
#ifndef MARKETDATA_SERVICES_COMMON_LOGGING_CALL_LOG_H_
#define MARKETDATA_SERVICES_COMMON_LOGGING_CALL_LOG_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"
#include "services/common/logging/request_context.h"

namespace marketdata {

// What the interceptor does for one call, apart from gRPC's types.
class CallLogEntry {
 public:
  // `method` must outlive the entry (gRPC's method names are static).
  CallLogEntry(absl::string_view method, double sample_rate);

  // The call's metadata arrived; its handler runs next, on this thread.
  void Started(absl::string_view request_id, absl::string_view traceparent);
  // The call ends with `code`, on any thread: writes its line unless sampled out, and forgets
  // the context of the thread its handler ran on if that is this one.
  void Finished(grpc::StatusCode code);

 private:
  const absl::string_view method_;
  const double sample_rate_;
  const bool probe_;  // health checks and reflection
  const std::chrono::steady_clock::time_point start_;
  RequestContext context_;
  std::thread::id handler_thread_;
  // Set when the call ends: the handler's thread then stops using the call's ids.
  std::shared_ptr<std::atomic<bool>> ended_;
};

// `sample_rate` in [0, 1]: the share of successful calls logged.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewCallLogInterceptorFactory(double sample_rate);

// "OK", "NOT_FOUND", ...: the code's name as gRPC and the gateway's error bodies spell it.
absl::string_view StatusCodeName(grpc::StatusCode code);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_LOGGING_CALL_LOG_H_
