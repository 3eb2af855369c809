// The `migrate` command of mds-api: applies the schema migrations the database lacks, then
// exits. A deployment runs it once before new replicas start (deploy/k8s: a Kubernetes Job), so
// a long migration is not done inside a replica's start-up. Replicas still apply migrations at
// start, under the same advisory lock: one that starts first waits for the command to finish.
//
//   migrate            connect to DATABASE_URL (the environment), apply, report, exit
//   migrate --to N     the same, up to version N only: a staged upgrade, one step at a time
#ifndef MARKETDATA_SERVICES_STORAGE_MIGRATE_COMMAND_H_
#define MARKETDATA_SERVICES_STORAGE_MIGRATE_COMMAND_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/storage/migrations.h"

namespace marketdata {

// Connects and applies `migrations`; returns how many ran now.
using ApplyMigrationsFn = std::function<absl::StatusOr<int>(const std::vector<Migration>&)>;

// `args` are the words after "migrate". Returns the exit code: 0 the schema is current,
// 1 failed (connection or migration, with the reason on `err`), 2 bad usage.
int RunMigrateCommand(const std::vector<std::string>& args,
                      const std::vector<Migration>& migrations, const ApplyMigrationsFn& apply,
                      std::ostream& out, std::ostream& err);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_MIGRATE_COMMAND_H_
