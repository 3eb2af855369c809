#include "services/storage/migrate_command.h"

namespace marketdata {
namespace {

constexpr char kUsage[] =
    "usage: migrate\n"
    "Applies the schema migrations the database at DATABASE_URL lacks, then exits (0: the schema\n"
    "is current). The DATABASE_* settings are read from the environment.\n";

}  // namespace

int RunMigrateCommand(const std::vector<std::string>& args,
                      const std::vector<Migration>& migrations, const ApplyMigrationsFn& apply,
                      std::ostream& out, std::ostream& err) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    out << kUsage;
    return 0;
  }
  if (!args.empty()) {
    err << "unexpected argument " << args[0] << "\n" << kUsage;
    return 2;
  }
  absl::StatusOr<int> applied = apply(migrations);
  if (!applied.ok()) {
    err << "migrate: " << applied.status().message() << "\n";
    return 1;
  }
  const std::string latest =
      migrations.empty() ? "none" : std::to_string(migrations.back().version) + " (" +
                                        migrations.back().name + ")";
  if (*applied == 0) {
    out << "no migration to apply; schema at version " << latest << "\n";
  } else {
    out << "applied " << *applied << " of " << migrations.size()
        << " migrations; schema at version " << latest << "\n";
  }
  return 0;
}

}  // namespace marketdata
