#include "services/common/logging/request_context.h"

namespace marketdata {
namespace {

constexpr size_t kMaxRequestIdLength = 128;
constexpr size_t kTraceparentLength = 55;  // 2 + 1 + 32 + 1 + 16 + 1 + 2

const RequestContext kNoContext;
thread_local const RequestContext* current = &kNoContext;
thread_local RequestContext thread_slot;
thread_local std::shared_ptr<const std::atomic<bool>> thread_slot_ended;

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// `n` lower-case hex digits at `s`, not all zero when `nonzero`.
bool HexField(absl::string_view s, size_t n, bool nonzero) {
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    if (!IsLowerHex(s[i])) return false;
    any = any || s[i] != '0';
  }
  return any || !nonzero;
}

bool IsPrintableAscii(absl::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

bool IsValidTraceparent(absl::string_view t) {
  if (t.size() < kTraceparentLength) return false;
  if (!HexField(t, 2, false) || t.substr(0, 2) == "ff") return false;
  if (t[2] != '-' || t[35] != '-' || t[52] != '-') return false;
  if (!HexField(t.substr(3), 32, true) || !HexField(t.substr(36), 16, true) ||
      !HexField(t.substr(53), 2, false)) {
    return false;
  }
  if (t.substr(0, 2) == "00") return t.size() == kTraceparentLength;
  return t.size() == kTraceparentLength || t[kTraceparentLength] == '-';
}

absl::string_view RequestContext::trace_id() const {
  if (traceparent.size() < kTraceparentLength) return {};
  return absl::string_view(traceparent).substr(3, 32);
}

namespace {

void AssignContext(RequestContext& context, absl::string_view request_id,
                   absl::string_view traceparent) {
  if (!request_id.empty() && request_id.size() <= kMaxRequestIdLength &&
      IsPrintableAscii(request_id)) {
    context.request_id.assign(request_id.data(), request_id.size());
  } else {
    context.request_id.clear();
  }
  if (IsValidTraceparent(traceparent)) {
    context.traceparent.assign(traceparent.data(), traceparent.size());
  } else {
    context.traceparent.clear();
  }
}

}  // namespace

RequestContext RequestContext::From(absl::string_view request_id,
                                    absl::string_view traceparent) {
  RequestContext context;
  AssignContext(context, request_id, traceparent);
  return context;
}

const RequestContext& CurrentRequestContext() {
  if (current == &thread_slot && thread_slot_ended != nullptr &&
      thread_slot_ended->load(std::memory_order_acquire)) {
    return kNoContext;  // the call whose handler ran here has ended elsewhere
  }
  return *current;
}

ScopedRequestContext::ScopedRequestContext(const RequestContext& context) : previous_(current) {
  current = &context;
}

ScopedRequestContext::~ScopedRequestContext() { current = previous_; }

void SetThreadRequestContext(absl::string_view request_id, absl::string_view traceparent,
                             std::shared_ptr<const std::atomic<bool>> ended) {
  AssignContext(thread_slot, request_id, traceparent);
  thread_slot_ended = std::move(ended);
  current = &thread_slot;
}

void ClearThreadRequestContext() {
  thread_slot.request_id.clear();
  thread_slot.traceparent.clear();
  thread_slot_ended.reset();
  if (current == &thread_slot) current = &kNoContext;
}

}  // namespace marketdata
