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
// line itself always carries the call's ids, on whichever thread the call ends.
#ifndef MARKETDATA_SERVICES_COMMON_CALL_LOG_H_
#define MARKETDATA_SERVICES_COMMON_CALL_LOG_H_

#include <memory>

#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"

namespace marketdata {

// `sample_rate` in [0, 1]: the share of successful calls logged.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewCallLogInterceptorFactory(double sample_rate);

// "OK", "NOT_FOUND", ...: the code's name as gRPC and the gateway's error bodies spell it.
absl::string_view StatusCodeName(grpc::StatusCode code);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_CALL_LOG_H_
