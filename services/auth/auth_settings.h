// The API key settings both services share: whether keys are required, and the default quotas.
#ifndef MARKETDATA_SERVICES_AUTH_AUTH_SETTINGS_H_
#define MARKETDATA_SERVICES_AUTH_AUTH_SETTINGS_H_

#include "services/auth/authorizer.h"
#include "services/common/config/settings_table.h"

namespace marketdata {

// REQUIRE_API_KEYS, API_KEY_REQUESTS_PER_MINUTE, API_KEY_MAX_JOBS and API_KEY_MAX_SYMBOLS.
SettingTable<AuthOptions> AuthSettingsTable();

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_AUTH_AUTH_SETTINGS_H_
