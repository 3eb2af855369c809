#include "services/providers/provider_reply.h"

#include "services/common/grpc/errors.h"

#include <algorithm>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "services/providers/provider_outcome.h"

namespace marketdata {
namespace {

constexpr size_t kMaxMessageChars = 200;
constexpr char kRedacted[] = "***";

bool ContainsSecret(const Json& value, absl::string_view secret) {
  if (value.is_string()) {
    return absl::string_view(value.get_ref<const std::string&>()).find(secret) !=
           absl::string_view::npos;
  }
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      if (absl::string_view(key).find(secret) != absl::string_view::npos ||
          ContainsSecret(member, secret)) {
        return true;
      }
    }
    return false;
  }
  if (value.is_array()) {
    for (const auto& element : value) {
      if (ContainsSecret(element, secret)) return true;
    }
  }
  return false;
}

// PostgreSQL's jsonb and text refuse NUL characters, so a reply holding one cannot be stored.
bool ContainsNul(const Json& value) {
  if (value.is_string()) {
    return value.get_ref<const std::string&>().find('\0') != std::string::npos;
  }
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      if (key.find('\0') != std::string::npos || ContainsNul(member)) return true;
    }
    return false;
  }
  if (value.is_array()) {
    for (const auto& element : value) {
      if (ContainsNul(element)) return true;
    }
  }
  return false;
}

// The length of `text` cut so that it does not end inside a UTF-8 character.
size_t Utf8Prefix(absl::string_view text) {
  if (text.empty()) return 0;
  size_t start = text.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  const unsigned char lead = static_cast<unsigned char>(text[start]);
  const size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return text.size() - start < length ? start : text.size();
}

Json WithoutSecret(const Json& value, absl::string_view secret) {
  if (value.is_string()) return RedactSecret(value.get_ref<const std::string&>(), secret);
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [key, member] : value.items()) {
      out[RedactSecret(key, secret)] = WithoutSecret(member, secret);
    }
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& element : value) out.push_back(WithoutSecret(element, secret));
    return out;
  }
  return value;
}

}  // namespace

absl::Status UnreadableReply(absl::string_view provider, absl::string_view why) {
  return absl::UnavailableError(absl::StrCat(provider, " provider returned an unreadable reply",
                                             why.empty() ? "" : ": ", why));
}

absl::StatusOr<Json> ParseReplyObject(absl::string_view provider, absl::string_view body) {
  try {
    Json parsed = Json::parse(body.begin(), body.end(), /*cb=*/nullptr,
                              /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return UnreadableReply(provider, "not JSON");
    if (!parsed.is_object()) return UnreadableReply(provider, "not a JSON object");
    if (ContainsNul(parsed)) return UnreadableReply(provider, "it holds a NUL character");
    return parsed;
  } catch (const std::exception&) {  // allow_exceptions=false should make this unreachable
    return UnreadableReply(provider, "not JSON");
  }
}

absl::Status UnexpectedHttpStatus(absl::string_view provider, long status) {  // NOLINT
  if (status >= 500 && status <= 599) {
    return absl::UnavailableError(absl::StrCat(provider, " is down (HTTP ", status, ")"));
  }
  return absl::UnavailableError(
      absl::StrCat(provider, " answered with unexpected HTTP status ", status));
}

absl::Status ProviderRateLimited(absl::string_view provider, absl::string_view why) {
  return WithRetryAdvice(
      absl::ResourceExhaustedError(absl::StrCat(provider, " rate limit reached (", why, ")")),
      RetryAdvice{absl::Minutes(1), 0});
}

absl::StatusOr<absl::Duration> CallTimeout(absl::string_view provider, absl::Duration timeout,
                                           absl::Time deadline, absl::Time now) {
  const absl::Duration left = deadline - now;
  if (left <= absl::ZeroDuration()) {
    return MarkedTimeout(absl::UnavailableError(
        absl::StrCat(provider, " was not called: the request's deadline had passed")));
  }
  return std::min(timeout, left);
}

absl::Status CheckPrice(absl::string_view provider, double price) {
  if (std::isfinite(price) && price > 0) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat(provider, " provider returned an unusable price (", price, ")"));
}

std::string RedactSecret(absl::string_view text, absl::string_view secret) {
  if (secret.empty()) return std::string(text);
  return absl::StrReplaceAll(text, {{secret, kRedacted}});
}

std::string RedactedReply(absl::string_view body, const Json& parsed, absl::string_view secret) {
  if (secret.empty()) return std::string(body);
  if (body.find(secret) == absl::string_view::npos && !ContainsSecret(parsed, secret)) {
    return std::string(body);
  }
  std::string replaced = RedactSecret(body, secret);
  Json check = Json::parse(replaced, nullptr, /*allow_exceptions=*/false);
  if (!check.is_discarded() && !ContainsSecret(check, secret)) return replaced;
  // The secret appeared escaped, or replacing it broke the JSON syntax.
  std::string rewritten = WithoutSecret(parsed, secret).dump(-1, ' ', /*ensure_ascii=*/false,
                                                             Json::error_handler_t::replace);
  // Serialising may spell the secret again (an escape such as \f before the rest of it).
  if (absl::string_view(rewritten).find(secret) == absl::string_view::npos) return rewritten;
  return R"({"withheld":"the reply echoed the API key"})";
}

std::string ProviderMessage(const Json& value, absl::string_view secret) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else {
    text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  // Control characters go first: a key with one inside must still be found and redacted.
  std::string printable;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) printable += c;
  }
  std::string out = RedactSecret(printable, secret);
  if (out.size() > kMaxMessageChars) {
    out.resize(Utf8Prefix(absl::string_view(out).substr(0, kMaxMessageChars)));
    out += "...";
  }
  return out;
}

absl::Status CheckQuoteTime(absl::string_view provider, absl::Time timestamp, absl::Time now) {
  if (timestamp >= absl::FromUnixSeconds(1) && timestamp <= now + absl::Hours(24)) {
    return absl::OkStatus();
  }
  return UnreadableReply(provider, absl::StrCat("its timestamp ", absl::FormatTime(timestamp),
                                                " is not a plausible quote time"));
}

std::string TrimBaseUrl(absl::string_view base_url) {
  while (absl::ConsumeSuffix(&base_url, "/")) {
  }
  return std::string(base_url);
}

}  // namespace marketdata
