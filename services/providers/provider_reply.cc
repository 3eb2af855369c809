#include "services/providers/provider_reply.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

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
  return WithoutSecret(parsed, secret).dump(-1, ' ', /*ensure_ascii=*/false,
                                            Json::error_handler_t::replace);
}

std::string ProviderMessage(const Json& value, absl::string_view secret) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else {
    text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  text = RedactSecret(text, secret);
  std::string out;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
    if (out.size() >= kMaxMessageChars) {
      out += "...";
      break;
    }
  }
  return out;
}

std::string TrimBaseUrl(absl::string_view base_url) {
  while (absl::ConsumeSuffix(&base_url, "/")) {
  }
  return std::string(base_url);
}

}  // namespace marketdata
