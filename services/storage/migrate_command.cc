#include "services/storage/migrate_command.h"

#include "absl/strings/numbers.h"

namespace marketdata {
namespace {

constexpr char kUsage[] =
    "usage: migrate [--to VERSION]\n"
    "Applies the schema migrations the database at DATABASE_URL lacks, then exits (0: the schema\n"
    "is current). With --to, only those up to VERSION. The DATABASE_* settings are read from the\n"
    "environment.\n";

}  // namespace

int RunMigrateCommand(const std::vector<std::string>& args,
                      const std::vector<Migration>& migrations, const ApplyMigrationsFn& apply,
                      std::ostream& out, std::ostream& err) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    out << kUsage;
    return 0;
  }
  std::vector<Migration> wanted = migrations;
  if (args.size() == 2 && args[0] == "--to") {
    int to = 0;
    if (!absl::SimpleAtoi(args[1], &to) || to < 1) {
      err << "--to needs a version number, not '" << args[1] << "'\n" << kUsage;
      return 2;
    }
    wanted.clear();
    for (const Migration& m : migrations) {
      if (m.version <= to) wanted.push_back(m);
    }
    if (wanted.empty() || wanted.back().version != to) {
      err << "no migration has version " << to << "\n";
      return 2;
    }
  } else if (!args.empty()) {
    err << "unexpected argument " << args[0] << "\n" << kUsage;
    return 2;
  }
  absl::StatusOr<int> applied = apply(wanted);
  if (!applied.ok()) {
    err << "migrate: " << applied.status().message() << "\n";
    return 1;
  }
  const std::string latest =
      wanted.empty() ? "none" : std::to_string(wanted.back().version) + " (" +
                                    wanted.back().name + ")";
  if (*applied == 0) {
    out << "no migration to apply; schema at version " << latest << "\n";
  } else {
    out << "applied " << *applied << " of " << wanted.size()
        << " migrations; schema at version " << latest << "\n";
  }
  return 0;
}

}  // namespace marketdata
