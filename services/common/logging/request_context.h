// RequestContext: the ids a request arrived with (the gateway's x-request-id and the W3C
// traceparent), carried with the work it starts and written on every log line of it. The work
// on one thread sees the context of the request it serves through CurrentRequestContext(); work
// handed to another thread takes a copy along and installs it there with ScopedRequestContext.
#ifndef MARKETDATA_SERVICES_COMMON_LOGGING_REQUEST_CONTEXT_H_
#define MARKETDATA_SERVICES_COMMON_LOGGING_REQUEST_CONTEXT_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace marketdata {

// Metadata keys (gRPC) and header names (Kafka) of the two ids.
inline constexpr char kRequestIdKey[] = "x-request-id";
inline constexpr char kTraceparentKey[] = "traceparent";

struct RequestContext {
  std::string request_id;   // empty: none
  std::string traceparent;  // a valid W3C traceparent, or empty

  bool empty() const { return request_id.empty() && traceparent.empty(); }
  // The 32 hex digits of the traceparent's trace id; empty without a traceparent.
  absl::string_view trace_id() const;

  // The context of a call or a record: the request id if it is 1-128 printable ASCII
  // characters, the traceparent if it is valid (see IsValidTraceparent); the rest is dropped.
  static RequestContext From(absl::string_view request_id, absl::string_view traceparent);
};

// version "-" trace-id "-" parent-id "-" flags, lower-case hex, ids not all zero (W3C Trace
// Context, level 1; a later version may append fields after a '-').
bool IsValidTraceparent(absl::string_view traceparent);

// The context of the work on this thread; an empty one outside any request.
const RequestContext& CurrentRequestContext();

// Installs `context` as this thread's for the scope's lifetime, then restores the previous one.
class ScopedRequestContext {
 public:
  explicit ScopedRequestContext(const RequestContext& context);
  ~ScopedRequestContext();
  ScopedRequestContext(const ScopedRequestContext&) = delete;
  ScopedRequestContext& operator=(const ScopedRequestContext&) = delete;

 private:
  const RequestContext* previous_;
};

// For the server interceptor that starts a call's handler on this thread without a scope to
// tie the context to: copies the ids into this thread's own slot (no allocation once the slot
// has grown) and makes it current, until ClearThreadRequestContext(), the next call, or `ended`
// becoming true (a call may end on another thread, which cannot clear this one's slot).
void SetThreadRequestContext(absl::string_view request_id, absl::string_view traceparent,
                             std::shared_ptr<const std::atomic<bool>> ended = nullptr);
void ClearThreadRequestContext();

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_LOGGING_REQUEST_CONTEXT_H_
