// Fuzz target: a Kafka record's value and content-type header through DecodePriceEvent, which
// parses and checks it once, as the consumer and the live feed do.
//
// Input layout: byte 0 picks the content-type header (0 "application/x-protobuf", 1 absent,
// 2 "application/json", 3 "application/x-protobuf; v=2"), the rest is the record value. Seeds
// start with "0" (48 % 4 == 0) followed by a serialised PriceEvent.
//
// Checks, beyond no crash or sanitizer report: a decoded price has what DecodePriceEvent
// promises (normalised symbol, finite positive price, finite volume >= 0 if any, price point id,
// a timestamp after 1970 and at most a day ahead); every refusal is INVALID_ARGUMENT with a
// message; an accepted price survives an encode/decode round trip unchanged.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "google/protobuf/stubs/logging.h"
#include "services/domain/symbol.h"
#include "services/events/price_event.h"

namespace marketdata {
namespace {

// A fixed clock keeps every run of an input the same.
const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

constexpr const char* kContentTypes[4] = {"application/x-protobuf", "", "application/json",
                                          "application/x-protobuf; v=2"};

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "ERROR: price event contract broken: %s\n  value: \"%s\"\n", what,
               absl::CHexEscape(detail.substr(0, 2000)).c_str());
  std::abort();
}

void ExpectRefusal(const absl::Status& status, const char* where) {
  if (!absl::IsInvalidArgument(status)) Fail(where, status.ToString());
  if (status.message().empty()) Fail(where, "refusal without a message");
}

}  // namespace
}  // namespace marketdata

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketdata;  // NOLINT(build/namespaces)
  // Invalid UTF-8 in a string field makes protobuf log an error per record; that is expected.
  // Only fatal messages are kept.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler([](google::protobuf::LogLevel level, const char* file,
                                       int line, const std::string& message) {
      if (level >= google::protobuf::LOGLEVEL_FATAL) {
        std::fprintf(stderr, "protobuf fatal %s:%d: %s\n", file, line, message.c_str());
      }
    });
    return true;
  }();
  (void)quiet;

  const std::string content_type = size > 0 ? kContentTypes[data[0] % 4] : "";
  const std::string payload =
      size > 1 ? std::string(reinterpret_cast<const char*>(data) + 1, size - 1) : std::string();

  const absl::StatusOr<StoredPrice> decoded = DecodePriceEvent(payload, content_type, kNow);
  if (!decoded.ok()) {
    ExpectRefusal(decoded.status(), "DecodePriceEvent refusal");
    return 0;
  }
  const Quote& q = decoded->quote;
  const absl::StatusOr<std::string> symbol = NormalizeSymbol(q.symbol);
  if (!symbol.ok() || *symbol != q.symbol) Fail("decoded bad symbol", q.symbol);
  if (!std::isfinite(q.price) || !(q.price > 0)) Fail("decoded bad price", std::to_string(q.price));
  if (q.volume.has_value() && (!std::isfinite(*q.volume) || *q.volume < 0)) {
    Fail("decoded bad volume", std::to_string(*q.volume));
  }
  if (decoded->price_point_id <= 0) Fail("decoded without price_point_id", "");
  if (q.timestamp <= absl::UnixEpoch() || q.timestamp > kNow + kMaxEventClockSkew) {
    Fail("accepted a timestamp out of range", absl::FormatTime(q.timestamp));
  }

  // What the consumer accepts must read back the same (the dead-letter topic and the store see
  // the price as decoded).
  const std::string again = EncodePriceEvent(*decoded);
  const absl::StatusOr<StoredPrice> reread = DecodePriceEvent(again, kPriceEventContentType, kNow);
  if (!reread.ok()) Fail("accepted event does not decode again", reread.status().ToString());
  if (EncodePriceEvent(*reread) != again) Fail("round trip changed the event", again);
  return 0;
}
