// `mds-api raw ID...`: prints the raw provider replies stored under each id (a price's
// raw_response_id, as PriceEvents carry it), one JSON line per reply, for audit and
// reprocessing: the stored form is compressed (see raw_replies.h), so SQL alone cannot read it.
#ifndef MARKETDATA_SERVICES_STORAGE_RAW_COMMAND_H_
#define MARKETDATA_SERVICES_STORAGE_RAW_COMMAND_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/storage/raw_replies.h"

namespace marketdata {

using LoadRawRepliesFn = std::function<absl::StatusOr<std::vector<RawReply>>(int64_t raw_id)>;

// Exit code: 0 when every id was found, 1 when one was not or failed (said on `err`), 2 for a
// bad command line.
int RunRawCommand(const std::vector<std::string>& args, const LoadRawRepliesFn& load,
                  std::ostream& out, std::ostream& err);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_RAW_COMMAND_H_
