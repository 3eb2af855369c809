#include "services/storage/raw_replies.h"

#include <zlib.h>

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace marketdata {
namespace {

constexpr char kVersion = 1;
// Far above any write's replies: a value claiming more is corrupt.
constexpr size_t kMaxDecoded = 256u << 20;

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(absl::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

void PutString(std::string* out, absl::string_view s) {
  PutVarint(out, s.size());
  out->append(s.data(), s.size());
}

bool GetString(absl::string_view* in, std::string* s) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  s->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

absl::Status Corrupt(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("not stored raw replies: ", why));
}

}  // namespace

std::string EncodeRawReplies(const std::vector<RawReply>& replies) {
  std::string plain;
  for (const RawReply& r : replies) {
    PutString(&plain, r.symbol);
    PutString(&plain, r.provider);
    const int64_t us = absl::ToUnixMicros(r.quote_time);
    PutVarint(&plain, (static_cast<uint64_t>(us) << 1) ^ static_cast<uint64_t>(us >> 63));
    PutString(&plain, r.reply);
  }
  uLongf size = compressBound(plain.size());
  std::string out(1 + size, '\0');
  out[0] = kVersion;
  // Level 6: zlib's default; higher levels cost several times the CPU for a few percent.
  if (compress2(reinterpret_cast<Bytef*>(&out[1]), &size,
                reinterpret_cast<const Bytef*>(plain.data()), plain.size(), 6) != Z_OK) {
    return std::string();  // cannot happen with a buffer of compressBound()
  }
  out.resize(1 + size);
  return out;
}

absl::StatusOr<std::vector<RawReply>> DecodeRawReplies(absl::string_view encoded) {
  if (encoded.empty() || encoded[0] != kVersion) return Corrupt("unknown version");
  encoded.remove_prefix(1);
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return absl::InternalError("zlib: inflateInit failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(encoded.data()));
  z.avail_in = static_cast<uInt>(encoded.size());
  std::string plain;
  char buffer[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof(buffer);
    rc = inflate(&z, Z_NO_FLUSH);
    plain.append(buffer, sizeof(buffer) - z.avail_out);
    if (plain.size() > kMaxDecoded) rc = Z_MEM_ERROR;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // input ended before the stream did
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return Corrupt("truncated or corrupt stream");
  std::vector<RawReply> out;
  absl::string_view in = plain;
  while (!in.empty()) {
    RawReply r;
    uint64_t zigzag = 0;
    if (!GetString(&in, &r.symbol) || !GetString(&in, &r.provider) ||
        !GetVarint(&in, &zigzag) || !GetString(&in, &r.reply)) {
      return Corrupt("a reply is cut short");
    }
    const auto us = static_cast<int64_t>((zigzag >> 1) ^ (~(zigzag & 1) + 1));
    r.quote_time = absl::FromUnixMicros(us);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace marketdata
