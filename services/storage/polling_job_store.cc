#include "services/storage/polling_job_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace marketdata {
namespace {

// Every query returns the columns in this order; ReadJob reads them.
#define JOB_COLUMNS(t)                                                                         \
  t "job_id, array_to_string(" t "symbols, ','), " t "interval_seconds, " t "provider, " t      \
  "status, " t "created_at, " t "last_run_at, " t "next_run_at, " t "run_count, " t             \
  "error_count, coalesce(" t "last_error, ''), " t "owner_key_id"

constexpr PreparedSql kInsert = {
    "job_insert",
    "INSERT INTO polling_jobs (job_id, symbols, interval_seconds, provider, status, next_run_at, "
    "  owner_key_id) "
    "VALUES ($1, CAST($2 AS TEXT[]), CAST($3 AS INT), $4, 'accepted', now(), CAST($5 AS BIGINT)) "
    "ON CONFLICT (job_id) DO NOTHING RETURNING " JOB_COLUMNS("")};

constexpr PreparedSql kGet = {"job_get",
                              "SELECT " JOB_COLUMNS("") " FROM polling_jobs WHERE job_id = $1"};

// NULL filters and cursor are absent ones.
constexpr PreparedSql kList = {
    "job_list",
    "SELECT " JOB_COLUMNS("") " FROM polling_jobs "
    "WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) "
    "  AND (CAST($2 AS BIGINT) IS NULL OR owner_key_id = CAST($2 AS BIGINT)) "
    "  AND (CAST($3 AS TIMESTAMPTZ) IS NULL OR (created_at, job_id) < "
    "       (CAST($3 AS TIMESTAMPTZ), $4)) "
    "ORDER BY created_at DESC, job_id DESC LIMIT CAST($5 AS INT)"};

// A stopped job's tick records go with it.
constexpr PreparedSql kStop = {
    "job_stop_v2",
    "WITH stopped AS ("
    "  UPDATE polling_jobs SET status = 'stopped', lease_owner = NULL, lease_expires_at = NULL, "
    "  updated_at = now() WHERE job_id = $1 RETURNING *), "
    "gone AS (DELETE FROM polling_tick_prices t USING stopped WHERE t.job_id = stopped.job_id) "
    "SELECT " JOB_COLUMNS("") " FROM stopped"};

constexpr PreparedSql kClaimDue = {
    "job_claim_due",
    "WITH due AS ("
    "  SELECT job_id FROM polling_jobs"
    "  WHERE status IN ('accepted', 'running')"
    "    AND next_run_at <= now() + CAST($1 AS BIGINT) * interval '1 millisecond'"
    "    AND (lease_expires_at IS NULL OR lease_expires_at < now())"
    "  ORDER BY next_run_at LIMIT CAST($2 AS INT) FOR UPDATE SKIP LOCKED) "
    "UPDATE polling_jobs j SET lease_owner = $3,"
    "  lease_expires_at = now() + CAST($4 AS BIGINT) * interval '1 millisecond',"
    "  status = 'running', updated_at = now() "
    "FROM due WHERE j.job_id = due.job_id RETURNING " JOB_COLUMNS("j.")};

constexpr PreparedSql kActiveUsage = {
    "job_active_usage",
    "SELECT count(*), coalesce(sum(cardinality(symbols)), 0) FROM polling_jobs "
    "WHERE owner_key_id = CAST($1 AS BIGINT) AND status IN ('accepted', 'running')"};

// A lease that ran out is not renewed even when nobody has claimed it yet: the holder's own
// claimer may take it back meanwhile, and two runs of one tick must not both believe they hold it.
constexpr PreparedSql kRenewLease = {
    "job_renew_lease",
    "UPDATE polling_jobs SET lease_expires_at = now() + CAST($1 AS BIGINT) * interval "
    "'1 millisecond' "
    "WHERE job_id = $2 AND lease_owner = $3 AND status = 'running' "
    "  AND lease_expires_at > now() "
    "RETURNING job_id"};

// A NULL error keeps the last one. A run whose lease ran out records nothing, even when nobody
// claimed the job since: some of its writes may have been refused, and the next claim completes
// the tick with what it misses. The completed tick's records are no longer needed: next_run_at
// no longer names that tick, which refuses its late writes (see kRecordTick).
// Only that tick's records are deleted, by their whole key: records exist only for the tick
// next_run_at names, and a range over the job's earlier ticks would walk every record deleted
// since the last vacuum (hundreds of index pages per run at a few thousand prices a second).
constexpr PreparedSql kCompleteRun = {
    "job_complete_run_v4",
    "WITH ran AS (SELECT job_id, next_run_at AS tick_at FROM polling_jobs WHERE job_id = $5), "
    "done AS ("
    "  UPDATE polling_jobs j SET "
    "    last_run_at = CAST($1 AS TIMESTAMPTZ), next_run_at = CAST($2 AS TIMESTAMPTZ),"
    "    run_count = run_count + 1, error_count = error_count + CAST($3 AS INT),"
    "    last_error = coalesce($4, last_error),"
    "    lease_owner = NULL, lease_expires_at = NULL, updated_at = now() "
    "  FROM ran "
    "  WHERE j.job_id = ran.job_id AND j.lease_owner = $6 AND j.lease_expires_at > now() "
    "  RETURNING j.job_id, ran.tick_at) "
    "DELETE FROM polling_tick_prices t USING done "
    "WHERE t.job_id = done.job_id AND t.tick_at = done.tick_at"};

// The fence every tick record passes, here and in the batch that stores a tick's new price
// (price_store.cc): the job still runs, leased to the record's writer for this very tick, and
// the tick holds no price of the symbol yet (the primary key).
constexpr PreparedSql kRecordTick = {
    "job_record_tick",
    "INSERT INTO polling_tick_prices (job_id, tick_at, symbol, price_point_id, recorded_by) "
    "SELECT j.job_id, CAST($2 AS TIMESTAMPTZ), $3, CAST($4 AS BIGINT), $5 FROM polling_jobs j "
    "WHERE j.job_id = $1 AND j.status = 'running' AND j.lease_owner = $5 "
    "  AND j.lease_expires_at > now() AND j.next_run_at = CAST($2 AS TIMESTAMPTZ) "
    "ON CONFLICT DO NOTHING RETURNING symbol"};

constexpr PreparedSql kTickSymbols = {
    "job_tick_symbols",
    "SELECT symbol FROM polling_tick_prices WHERE job_id = $1 AND tick_at = CAST($2 AS TIMESTAMPTZ)"};

constexpr PreparedSql kMarkFailed = {
    "job_mark_failed",
    "UPDATE polling_jobs SET status = 'failed', last_error = $1, lease_owner = NULL,"
    "  lease_expires_at = NULL, updated_at = now() "
    "WHERE job_id = $2 AND lease_owner = $3 AND status <> 'stopped'"};

constexpr PreparedSql kReleaseLeases = {
    "job_release_leases",
    "UPDATE polling_jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1"};

#undef JOB_COLUMNS

PollingJob ReadJob(const PgResult& rows, int r) {
  PollingJob job;
  job.job_id = std::string(rows.text(r, 0));
  job.config.symbols = absl::StrSplit(rows.text(r, 1), ',', absl::SkipEmpty());
  job.config.interval_seconds = static_cast<int>(rows.int64(r, 2));
  job.config.provider = std::string(rows.text(r, 3));
  job.status = ParseJobStatus(rows.text(r, 4)).value_or(JobStatus::kFailed);
  job.created_at = rows.time(r, 5);
  job.last_run_at = rows.optional_time(r, 6);
  job.next_run_at = rows.time(r, 7);
  job.run_count = static_cast<int>(rows.int64(r, 8));
  job.error_count = static_cast<int>(rows.int64(r, 9));
  job.last_error = std::string(rows.text(r, 10));
  job.config.owner_key_id = rows.optional_int64(r, 11);
  return job;
}

std::string PageToken(const PollingJob& job) {
  return absl::StrCat(absl::ToUnixMicros(job.created_at), ".", job.job_id);
}

absl::Status ParsePageToken(const std::string& token, long long* cursor_us,
                            std::string* cursor_id) {
  std::pair<std::string, std::string> parts = absl::StrSplit(token, absl::MaxSplits('.', 1));
  int64_t micros = 0;
  if (!absl::SimpleAtoi(parts.first, &micros) || parts.second.empty()) {
    return absl::InvalidArgumentError("invalid page_token");
  }
  *cursor_us = micros;
  *cursor_id = parts.second;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PollingJob> PostgresPollingJobStore::Create(const std::string& job_id,
                                                           const JobConfig& config) {
  SqlParams params;
  params.Text(job_id).TextArray(config.symbols).Int(config.interval_seconds).Text(config.provider);
  params.OptionalInt(config.owner_key_id);
  absl::StatusOr<PgResult> rows = RunStatement(db_, kInsert, params, "creating a polling job");
  if (!rows.ok()) return rows.status();
  if (rows->rows() == 0) {
    return absl::AlreadyExistsError(absl::StrCat("polling job ", job_id, " already exists"));
  }
  return ReadJob(*rows, 0);
}

absl::StatusOr<PollingJob> PostgresPollingJobStore::Get(const std::string& job_id) {
  return OneJob("reading a polling job", kGet, job_id);
}

absl::StatusOr<JobPage> PostgresPollingJobStore::List(const JobFilter& filter, int limit,
                                                      const std::string& page_token) {
  SqlParams params;
  filter.status.has_value() ? params.Text(JobStatusName(*filter.status)) : params.Null();
  params.OptionalInt(filter.owner_key_id);
  if (page_token.empty()) {
    params.Null().Null();
  } else {
    long long cursor_us = 0;
    std::string cursor_id;
    if (absl::Status s = ParsePageToken(page_token, &cursor_us, &cursor_id); !s.ok()) return s;
    params.Time(absl::FromUnixMicros(cursor_us)).Text(cursor_id);
  }
  params.Int(limit + 1);  // one more tells whether another page exists
  absl::StatusOr<PgResult> rows = RunStatement(db_, kList, params, "listing polling jobs");
  if (!rows.ok()) return rows.status();
  JobPage page;
  for (int r = 0; r < rows->rows(); ++r) page.jobs.push_back(ReadJob(*rows, r));
  if (static_cast<int>(page.jobs.size()) > limit) {
    page.jobs.resize(limit);
    page.next_page_token = PageToken(page.jobs.back());
  }
  return page;
}

absl::StatusOr<JobUsage> PostgresPollingJobStore::ActiveUsage(int64_t owner_key_id) {
  absl::StatusOr<PgResult> rows = RunStatement(db_, kActiveUsage, SqlParams().Int(owner_key_id),
                                               "counting polling jobs");
  if (!rows.ok()) return rows.status();
  JobUsage usage;
  usage.jobs = static_cast<int>(rows->int64(0, 0));
  usage.symbols = static_cast<int>(rows->int64(0, 1));
  return usage;
}

absl::StatusOr<PollingJob> PostgresPollingJobStore::Stop(const std::string& job_id) {
  return OneJob("stopping a polling job", kStop, job_id);
}

absl::StatusOr<PollingJob> PostgresPollingJobStore::OneJob(absl::string_view what,
                                                           const PreparedSql& statement,
                                                           const std::string& job_id) {
  absl::StatusOr<PgResult> rows = RunStatement(db_, statement, SqlParams().Text(job_id), what);
  if (!rows.ok()) return rows.status();
  if (rows->rows() == 0) {
    return absl::NotFoundError(absl::StrCat("polling job ", job_id, " not found"));
  }
  return ReadJob(*rows, 0);
}

absl::StatusOr<std::vector<PollingJob>> PostgresPollingJobStore::ClaimDue(
    const std::string& owner, int limit, absl::Duration lookahead, absl::Duration lease_time) {
  absl::StatusOr<PgResult> rows = RunStatement(
      db_, kClaimDue,
      SqlParams()
          .Int(absl::ToInt64Milliseconds(lookahead))
          .Int(limit)
          .Text(owner)
          .Int(absl::ToInt64Milliseconds(lease_time)),
      "claiming polling jobs");
  if (!rows.ok()) return rows.status();
  std::vector<PollingJob> jobs;
  for (int r = 0; r < rows->rows(); ++r) jobs.push_back(ReadJob(*rows, r));
  return jobs;
}

absl::StatusOr<bool> PostgresPollingJobStore::RenewLease(const std::string& job_id,
                                                         const std::string& owner,
                                                         absl::Duration lease_time) {
  absl::StatusOr<PgResult> rows = RunStatement(
      db_, kRenewLease,
      SqlParams().Int(absl::ToInt64Milliseconds(lease_time)).Text(job_id).Text(owner),
      "renewing a polling lease");
  if (!rows.ok()) return rows.status();
  return rows->rows() > 0;
}

absl::Status PostgresPollingJobStore::CompleteRun(const std::string& job_id,
                                                  const std::string& owner,
                                                  const JobRunResult& result) {
  SqlParams params;
  params.Time(result.started_at).Time(result.next_run_at).Int(result.errors);
  result.errors > 0 ? params.Text(result.last_error) : params.Null();
  params.Text(job_id).Text(owner);
  return RunStatement(db_, kCompleteRun, params, "recording a polling run").status();
}

absl::StatusOr<std::vector<std::string>> PostgresPollingJobStore::TickSymbols(
    const std::string& job_id, absl::Time tick_at) {
  absl::StatusOr<PgResult> rows = RunStatement(db_, kTickSymbols,
                                               SqlParams().Text(job_id).Time(tick_at),
                                               "reading a polling tick's records");
  if (!rows.ok()) return rows.status();
  std::vector<std::string> symbols;
  for (int r = 0; r < rows->rows(); ++r) symbols.emplace_back(rows->text(r, 0));
  return symbols;
}

absl::StatusOr<bool> PostgresPollingJobStore::RecordTick(const PollTick& tick,
                                                         const std::string& symbol,
                                                         int64_t price_point_id) {
  SqlParams params;
  params.Text(tick.job_id).Time(tick.tick_at).Text(symbol);
  params.OptionalInt(price_point_id > 0 ? std::optional<int64_t>(price_point_id) : std::nullopt);
  params.Text(tick.owner);
  absl::StatusOr<PgResult> rows =
      RunStatement(db_, kRecordTick, params, "recording a polling tick's price");
  if (!rows.ok()) return rows.status();
  return rows->rows() > 0;
}

absl::Status PostgresPollingJobStore::MarkFailed(const std::string& job_id,
                                                 const std::string& owner,
                                                 const std::string& reason) {
  return RunStatement(db_, kMarkFailed, SqlParams().Text(reason).Text(job_id).Text(owner),
                      "failing a polling job")
      .status();
}

absl::Status PostgresPollingJobStore::ReleaseLeases(const std::string& owner) {
  return RunStatement(db_, kReleaseLeases, SqlParams().Text(owner), "releasing polling leases")
      .status();
}

}  // namespace marketdata
