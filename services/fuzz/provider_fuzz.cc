#include "services/fuzz/provider_fuzz.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "services/events/price_event.h"

namespace marketdata {
namespace fuzz {
namespace {

// Mostly 200 (where the parsing happens); the rest are the statuses the providers treat
// specially, and a few they do not know.
constexpr long kStatuses[16] = {200, 200, 200, 200, 200, 200, 200, 200,  // NOLINT(runtime/int)
                                429, 404, 401, 403, 500, 503, 302, 418};

bool ValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    size_t extra = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // cut short
    for (size_t k = 1; k <= extra; ++k) {
      const unsigned char d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      code = (code << 6) | (d & 0x3f);
    }
    static constexpr uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (code < kMin[extra] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// PostgreSQL's jsonb refuses "\u0000" in strings and keys (SQLSTATE 22P05).
bool HasNul(const nlohmann::json& value) {
  if (value.is_string()) {
    return value.get_ref<const std::string&>().find('\0') != std::string::npos;
  }
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      if (key.find('\0') != std::string::npos || HasNul(member)) return true;
    }
  }
  if (value.is_array()) {
    for (const auto& element : value) {
      if (HasNul(element)) return true;
    }
  }
  return false;
}

}  // namespace

ProviderReplyInput SplitProviderInput(const uint8_t* data, size_t size,
                                      absl::string_view realistic_key) {
  ProviderReplyInput in;
  in.api_key = std::string(realistic_key);
  if (size > 0) in.status = kStatuses[data[0] % 16];
  if (size > 1) {
    switch (data[1] % 4) {
      case 2: in.api_key = "zq"; break;
      case 3: in.api_key = "u0041"; break;
      default: break;
    }
  }
  if (size > 2) in.body.assign(reinterpret_cast<const char*>(data) + 2, size - 2);
  return in;
}

void Fail(absl::string_view what, absl::string_view detail) {
  // One line that names the broken rule alone (libFuzzer's fork mode repeats ERROR lines, and
  // ./deploy/dev fuzz groups by them), then the value.
  std::fprintf(stderr, "ERROR: provider contract broken: %.*s\n  value: \"%s\"\n",
               static_cast<int>(what.size()), what.data(),
               absl::CHexEscape(detail.substr(0, 2000)).c_str());
  std::abort();
}

void CheckProviderResult(const absl::StatusOr<Quote>& result, absl::string_view provider,
                         absl::string_view symbol, absl::string_view api_key) {
  if (!result.ok()) {
    const absl::StatusCode code = result.status().code();
    if (code != absl::StatusCode::kNotFound && code != absl::StatusCode::kResourceExhausted &&
        code != absl::StatusCode::kUnavailable) {
      Fail("error code outside NOT_FOUND, RESOURCE_EXHAUSTED, UNAVAILABLE",
           result.status().ToString());
    }
    if (result.status().message().empty()) Fail("error without a message", "");
    if (!api_key.empty() && absl::StrContains(result.status().message(), api_key)) {
      Fail("API key in the error message", result.status().message());
    }
    if (!ValidUtf8(result.status().message())) {
      Fail("error message is not valid UTF-8", result.status().message());
    }
    return;
  }
  const Quote& q = *result;
  if (q.symbol != symbol) Fail("quote for another symbol", q.symbol);
  if (q.provider != provider) Fail("quote from another provider", q.provider);
  if (!std::isfinite(q.price) || !(q.price > 0)) Fail("unusable price", std::to_string(q.price));
  const nlohmann::json raw =
      nlohmann::json::parse(q.raw_response, nullptr, /*allow_exceptions=*/false);
  if (raw.is_discarded()) Fail("raw_response is not JSON", q.raw_response);
  if (HasNul(raw)) Fail("raw_response has a NUL character, which jsonb refuses", q.raw_response);
  if (!api_key.empty() && absl::StrContains(q.raw_response, api_key)) {
    Fail("API key in raw_response", q.raw_response);
  }
  StoredPrice stored;
  stored.quote = q;
  stored.raw_response_id = 1;
  stored.price_point_id = 1;
  const absl::Status averaged =
      DecodePriceEvent(EncodePriceEvent(stored), kPriceEventContentType, absl::Now()).status();
  if (!averaged.ok()) {
    Fail("quote the consumer refuses",
         absl::StrCat(averaged.message(), " (quote at ", absl::FormatTime(q.timestamp), ")"));
  }
}

}  // namespace fuzz
}  // namespace marketdata
