// RawReplies: the raw provider replies of one write, stored together as one compressed value.
//
// A reply is small (a hundred bytes to a few kilobytes of JSON) and PostgreSQL compresses
// nothing under about 2 KB, so stored one per row a reply cost more than the price made from it
// (257 B a price with test replies, 2,071 B with Yahoo's). The replies a writer commits together
// are similar (the same provider's fields, the same keys), so compressed together they take a
// fraction of that: each price's share of its write's row is what it costs.
//
// The format: a version byte (1), then the deflate stream (zlib) of the replies one after
// another, each as varint-prefixed symbol, provider, quote time (microseconds since the epoch,
// zigzag varint) and reply text.
#ifndef MARKETDATA_SERVICES_STORAGE_RAW_REPLIES_H_
#define MARKETDATA_SERVICES_STORAGE_RAW_REPLIES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace marketdata {

struct RawReply {
  std::string symbol;
  std::string provider;
  absl::Time quote_time;  // the quote's own time: with the symbol, it names the price
  std::string reply;      // as the provider sent it, credentials removed
};

inline bool operator==(const RawReply& a, const RawReply& b) {
  return a.symbol == b.symbol && a.provider == b.provider && a.quote_time == b.quote_time &&
         a.reply == b.reply;
}

std::string EncodeRawReplies(const std::vector<RawReply>& replies);

// INVALID_ARGUMENT for a value this format does not describe (another version, a truncated or
// corrupt stream).
absl::StatusOr<std::vector<RawReply>> DecodeRawReplies(absl::string_view encoded);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_RAW_REPLIES_H_
