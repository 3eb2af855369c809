// The `keys` command of mds-api: API key administration from a shell that can reach the
// database (the first admin key has to come from somewhere).
//
//   keys create NAME --scopes read,write[,admin] [--requests-per-minute N] [--max-jobs N]
//                    [--max-symbols N]
//   keys list
//   keys revoke NAME
//   keys quota NAME [--requests-per-minute N] [--max-jobs N] [--max-symbols N]
#ifndef MARKETDATA_SERVICES_AUTH_KEYS_COMMAND_H_
#define MARKETDATA_SERVICES_AUTH_KEYS_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

#include "services/auth/key_admin.h"

namespace marketdata {

// `args` are the words after "keys". Returns the exit code: 0 done, 1 failed, 2 bad usage.
int RunKeysCommand(const std::vector<std::string>& args, KeyAdmin& admin, std::ostream& out,
                   std::ostream& err);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_AUTH_KEYS_COMMAND_H_
