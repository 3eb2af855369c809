#include "services/providers/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "services/providers/provider_outcome.h"
#include "absl/strings/str_format.h"

namespace marketdata {
namespace {

constexpr size_t kMaxIdleHandles = 4;
constexpr long kMaxRedirects = 3;  // NOLINT(runtime/int)

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) std::abort();
  });
}

struct Sink {
  std::string body;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t bytes = size * count;
  if (sink->body.size() + bytes > CurlHttpClient::kMaxBodyBytes) {
    sink->too_large = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  sink->body.append(data, bytes);
  return bytes;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string UrlEncode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (IsUnreserved(c)) {
      out += static_cast<char>(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

std::string UrlWithoutQuery(absl::string_view url) {
  return std::string(url.substr(0, std::min(url.find('?'), url.find('#'))));
}

CurlHttpClient::CurlHttpClient() { InitCurlOnce(); }

CurlHttpClient::~CurlHttpClient() {
  absl::MutexLock lock(&mu_);
  for (void* handle : idle_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* CurlHttpClient::TakeHandle() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* handle = idle_.back();
      idle_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void CurlHttpClient::ReturnHandle(void* handle) {
  // Reset drops the options but keeps the connection and DNS caches, which is the point of reuse.
  curl_easy_reset(static_cast<CURL*>(handle));
  absl::MutexLock lock(&mu_);
  if (idle_.size() < kMaxIdleHandles) {
    idle_.push_back(handle);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

absl::StatusOr<HttpResponse> CurlHttpClient::Get(const std::string& url, absl::Duration timeout) {
  const std::string safe_url = UrlWithoutQuery(url);
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (curl == nullptr) {
    return absl::UnavailableError(absl::StrCat("GET ", safe_url, ": cannot create a curl handle"));
  }
  Sink sink;
  char error[CURL_ERROR_SIZE] = {0};
  const long timeout_ms = std::max<long>(1, absl::ToInt64Milliseconds(timeout));  // NOLINT
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // signals and threads do not mix
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, kMaxRedirects);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "marketdata/1");
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);

  const CURLcode code = curl_easy_perform(curl);
  long status = 0;  // NOLINT(runtime/int)
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  // The handle must not keep pointers to this frame's buffers.
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  ReturnHandle(curl);

  if (sink.too_large) {
    return absl::UnavailableError(absl::StrCat("GET ", safe_url, ": reply larger than ",
                                               kMaxBodyBytes, " bytes"));
  }
  if (code != CURLE_OK) {
    // libcurl's detail names host and port at most, but strip the URL in case a version echoes it.
    std::string detail = error[0] != '\0' ? error : curl_easy_strerror(code);
    if (const size_t at = detail.find(url); at != std::string::npos) {
      detail.replace(at, url.size(), safe_url);
    }
    if (const size_t q = url.find('?'); q != std::string::npos) {
      const std::string query = url.substr(q + 1);
      for (size_t at; !query.empty() && (at = detail.find(query)) != std::string::npos;) {
        detail.replace(at, query.size(), "...");
      }
    }
    if (code == CURLE_OPERATION_TIMEDOUT) {
      return MarkedTimeout(
          absl::UnavailableError(absl::StrCat("GET ", safe_url, " timed out after ",
                                              absl::FormatDuration(timeout), ": ", detail)));
    }
    return absl::UnavailableError(absl::StrCat("GET ", safe_url, " failed: ", detail));
  }
  return HttpResponse{status, std::move(sink.body)};
}

}  // namespace marketdata
