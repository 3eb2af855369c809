#include "services/auth/auth_settings.h"

namespace marketdata {

SettingTable<AuthOptions> AuthSettingsTable() {
  return SettingTable<AuthOptions>({
      CustomSetting<AuthOptions>(
          "REQUIRE_API_KEYS", "false",
          [](const std::string& name, const std::string& value, AuthOptions& options) {
            if (value != "true" && value != "false") {
              return absl::InvalidArgumentError(name + ": true or false, not \"" + value + "\"");
            }
            options.required = value == "true";
            return absl::OkStatus();
          },
          "true: every call needs an API key (mds-api keys create ...); false: anyone may call"),
      IntSetting("API_KEY_REQUESTS_PER_MINUTE", 6000, 0, 100000000,
                 &AuthOptions::requests_per_minute,
                 "calls a minute one key may make to this process, unless set for the key; 0: "
                 "no limit"),
      IntSetting("API_KEY_MAX_JOBS", 20, 0, 100000, &AuthOptions::max_jobs,
                 "active polling jobs one key may hold, unless set for the key; 0: no limit"),
      IntSetting("API_KEY_MAX_SYMBOLS", 500, 0, 10000000, &AuthOptions::max_symbols,
                 "symbols over all active polling jobs of one key, unless set for the key; 0: "
                 "no limit"),
  });
}

}  // namespace marketdata
