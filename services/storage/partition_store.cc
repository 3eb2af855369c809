#include "services/storage/partition_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

// Any constant shared by every process of this service (the migrations use ...001).
constexpr PreparedSql kTryLock = {"try_maintenance_lock", "SELECT pg_try_advisory_lock(7243591002)"};
constexpr PreparedSql kUnlock = {"release_maintenance_lock", "SELECT pg_advisory_unlock(7243591002)"};

// The bounds as the catalog prints them, read back as timestamps by the same session (so its
// time zone cannot matter); MINVALUE has no quoted value and gives NULL.
constexpr PreparedSql kList = {"list_time_partitions", R"SQL(
SELECT c.relname,
       CAST(extract(epoch FROM CAST((regexp_match(b.text, 'FROM \(''([^'']*)''\)'))[1]
                                    AS timestamptz)) * 1000000 AS BIGINT),
       CAST(extract(epoch FROM CAST((regexp_match(b.text, 'TO \(''([^'']*)''\)'))[1]
                                    AS timestamptz)) * 1000000 AS BIGINT),
       i.inhdetachpending
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS text) b
WHERE i.inhparent = to_regclass($1)
ORDER BY 3)SQL"};

constexpr PreparedSql kPartitionColumn = {"time_partition_column", R"SQL(
SELECT a.attname FROM pg_partitioned_table p
JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
WHERE p.partrelid = to_regclass($1))SQL"};

// The outbox is small (rows leave it once the broker acknowledged them): a scan.
constexpr PreparedSql kOldestOutboxPrice = {
    "oldest_outbox_price_us",
    "SELECT CAST(extract(epoch FROM min(price_ts)) * 1000000 AS BIGINT) FROM price_event_outbox"};

constexpr PreparedSql kNow = {"database_now_us",
                              "SELECT CAST(extract(epoch FROM now()) * 1000000 AS BIGINT)"};

// A timestamp literal PostgreSQL reads the same whatever the session's settings.
std::string Literal(absl::Time t) {
  return absl::StrCat("'", absl::FormatTime("%E4Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone()),
                      "'");
}

// Identifiers here are table names of this service and names made by PartitionName: quoted,
// with any quote doubled all the same.
std::string Ident(const std::string& name) {
  return absl::StrCat("\"", absl::StrReplaceAll(name, {{"\"", "\"\""}}), "\"");
}

class Session final : public PartitionSession {
 public:
  Session(Database::Lease& lease, const PartitionDdlOptions& options)
      : lease_(lease), options_(options) {}

  absl::StatusOr<absl::Time> Now() override {
    absl::StatusOr<PgResult> r = lease_.Run(kNow, {}, "reading the database clock");
    if (!r.ok()) return r.status();
    return absl::FromUnixMicros(r->int64(0, 0));
  }

  absl::StatusOr<std::vector<TimePartition>> List(const std::string& table) override {
    return ListOn(lease_, table);
  }

  absl::StatusOr<std::optional<absl::Time>> OldestOutboxPrice() override {
    absl::StatusOr<PgResult> r = lease_.Run(kOldestOutboxPrice, {}, "reading the outbox");
    if (!r.ok()) return r.status();
    if (r->null(0, 0)) return std::nullopt;
    return absl::FromUnixMicros(r->int64(0, 0));
  }

  static absl::StatusOr<std::vector<TimePartition>> ListOn(Database::Lease& lease,
                                                           const std::string& table) {
    absl::StatusOr<PgResult> r = lease.Run(kList, SqlParams().Text(table), "listing partitions");
    if (!r.ok()) return r.status();
    std::vector<TimePartition> out;
    for (int i = 0; i < r->rows(); ++i) {
      TimePartition p;
      p.name = std::string(r->text(i, 0));
      if (!r->null(i, 1)) p.lower = absl::FromUnixMicros(r->int64(i, 1));
      p.upper = absl::FromUnixMicros(r->int64(i, 2));
      p.detach_pending = r->text(i, 3) == "t";
      out.push_back(std::move(p));
    }
    return out;
  }

  absl::Status Create(const std::string& table, absl::Time lower, absl::Time upper,
                      const std::vector<SubPartition>& subs) override {
    absl::StatusOr<PgResult> column =
        lease_.Run(kPartitionColumn, SqlParams().Text(table), "reading the partition column");
    if (!column.ok()) return column.status();
    if (column->rows() != 1) {
      return absl::FailedPreconditionError(absl::StrCat(table, " is not partitioned"));
    }
    const std::string name = PartitionName(table, lower);
    const std::string col = Ident(std::string(column->text(0, 0)));
    const std::string like = absl::StrCat(
        " (LIKE ", Ident(table),
        " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)");
    std::string make = absl::StrCat("CREATE TABLE ", Ident(name), like);
    if (!subs.empty()) {
      // Every sub-partition has the same column (checked by whoever lists them).
      absl::StrAppend(&make, " PARTITION BY RANGE (", Ident(subs[0].column), ")");
      const auto bound = [](const std::optional<int64_t>& v, const char* open) {
        return v.has_value() ? absl::StrCat(*v) : std::string(open);
      };
      for (const SubPartition& sub : subs) {
        const std::string sub_name = name + sub.suffix;
        absl::StrAppend(&make, "; CREATE TABLE ", Ident(sub_name), like, "; ALTER TABLE ",
                        Ident(name), " ATTACH PARTITION ", Ident(sub_name), " FOR VALUES FROM (",
                        bound(sub.lower, "MINVALUE"), ") TO (", bound(sub.upper, "MAXVALUE"),
                        ")");
      }
    }
    // The CHECK lets ATTACH skip its scan; ATTACH takes a lock that writers do not wait for
    // (CREATE TABLE ... PARTITION OF would lock them out for a moment).
    const std::string sql = absl::StrCat(
        "BEGIN; SET LOCAL lock_timeout = ", absl::ToInt64Milliseconds(options_.lock_timeout),
        "; ", make, "; ALTER TABLE ", Ident(name), " ADD CONSTRAINT ", Ident(name + "_range"),
        " CHECK (", col, " >= ", Literal(lower), " AND ", col, " < ", Literal(upper),
        "); ALTER TABLE ", Ident(table), " ATTACH PARTITION ", Ident(name), " FOR VALUES FROM (",
        Literal(lower), ") TO (", Literal(upper), "); COMMIT");
    const std::string what = absl::StrCat("creating partition ", name);
    return WithRetries(what, nullptr, [&] {
      absl::Status s = lease_.Exec(sql, what).status();
      if (!s.ok()) (void)lease_.Exec("ROLLBACK", what);
      return s;
    });
  }

  absl::Status Drop(const std::string& table, const TimePartition& partition,
                    int* retries) override {
    const std::string what = absl::StrCat("dropping partition ", partition.name);
    if (absl::Status s = SetLockTimeout(); !s.ok()) return s;
    absl::Status status = WithRetries(what, retries, [&] {
      // A detach an earlier try left half done is finished, not started again.
      absl::StatusOr<std::vector<TimePartition>> now = ListOn(lease_, table);
      bool attached = false, pending = false;
      if (now.ok()) {
        for (const TimePartition& p : *now) {
          if (p.name != partition.name) continue;
          attached = true;
          pending = p.detach_pending;
        }
      }
      if (attached) {
        absl::Status s =
            lease_
                .Exec(absl::StrCat("ALTER TABLE ", Ident(table), " DETACH PARTITION ",
                                   Ident(partition.name), pending ? " FINALIZE" : " CONCURRENTLY"),
                      what)
                .status();
        if (!s.ok()) return s;
      }
      return lease_.Exec(absl::StrCat("DROP TABLE IF EXISTS ", Ident(partition.name)), what)
          .status();
    });
    (void)lease_.Exec("RESET lock_timeout", what);
    return status;
  }

 private:
  absl::Status SetLockTimeout() {
    return lease_
        .Exec(absl::StrCat("SET lock_timeout = ", absl::ToInt64Milliseconds(options_.lock_timeout)),
              "setting lock_timeout")
        .status();
  }

  // Runs `attempt` until it succeeds, tries again after a lock timeout, up to max_tries.
  template <typename Attempt>
  absl::Status WithRetries(const std::string& what, int* retries, Attempt attempt) {
    for (int i = 0; i < options_.max_tries; ++i) {
      const absl::Status s = attempt();
      if (s.ok()) return absl::OkStatus();
      if (SqlStateOf(s) != kSqlStateLockNotAvailable) return s;
      if (retries != nullptr) ++*retries;
      spdlog::info("{}: its lock was taken, trying again", what);
      absl::SleepFor(options_.retry_pause);
    }
    return absl::AbortedError(absl::StrCat(what, ": its lock stayed taken after ",
                                           options_.max_tries, " tries"));
  }

  Database::Lease& lease_;
  const PartitionDdlOptions& options_;
};

}  // namespace

std::string PartitionName(const std::string& table, absl::Time lower) {
  return absl::StrCat(table, "_p",
                      absl::FormatTime("%Y%m%d_%H%M%S", lower, absl::UTCTimeZone()));
}

absl::StatusOr<bool> PostgresPartitionStore::WithMaintenanceLock(
    const std::function<absl::Status(PartitionSession&)>& run) {
  absl::StatusOr<Database::Lease> lease = db_.Acquire();
  if (!lease.ok()) return lease.status();
  // A session lock: held across the autocommitted statements of the run, released with the
  // session should this process die.
  absl::StatusOr<PgResult> got = lease->Run(kTryLock, {}, "taking the maintenance lock");
  if (!got.ok()) return got.status();
  if (got->text(0, 0) != "t") return false;
  Session session(*lease, options_);
  absl::Status status = run(session);
  lease->Run(kUnlock, {}, "releasing the maintenance lock").IgnoreError();
  if (!status.ok()) return status;
  return true;
}

absl::StatusOr<std::vector<TimePartition>> PostgresPartitionStore::List(const std::string& table) {
  absl::StatusOr<Database::Lease> lease = db_.Acquire();
  if (!lease.ok()) return lease.status();
  return Session::ListOn(*lease, table);
}

}  // namespace marketdata
