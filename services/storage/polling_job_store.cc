#include "services/storage/polling_job_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "soci/soci.h"

namespace marketdata {
namespace {

// Every query returns the columns in this order; ReadJob reads them.
#define JOB_COLUMNS                                                                   \
  "job_id, array_to_string(symbols, ','), interval_seconds, provider, status, "       \
  "CAST(extract(epoch FROM created_at) * 1000000 AS BIGINT), "                        \
  "CAST(extract(epoch FROM last_run_at) * 1000000 AS BIGINT), "                       \
  "CAST(extract(epoch FROM next_run_at) * 1000000 AS BIGINT), run_count, error_count, " \
  "coalesce(last_error, ''), owner_key_id"

constexpr char kInsert[] =
    "INSERT INTO polling_jobs (job_id, symbols, interval_seconds, provider, status, next_run_at, "
    "  owner_key_id) "
    "VALUES (:id, CAST(:symbols AS TEXT[]), :interval, :provider, 'accepted', now(), :owner) "
    "ON CONFLICT (job_id) DO NOTHING RETURNING " JOB_COLUMNS;

constexpr char kGet[] = "SELECT " JOB_COLUMNS " FROM polling_jobs WHERE job_id = :id";

constexpr char kList[] =
    "SELECT " JOB_COLUMNS " FROM polling_jobs "
    "WHERE (:any_status = 1 OR status = :status) "
    "  AND (:any_owner = 1 OR owner_key_id = :owner) "
    "  AND (:first_page = 1 OR (created_at, job_id) < "
    "       (timestamptz 'epoch' + :cursor_us * interval '1 microsecond', :cursor_id)) "
    "ORDER BY created_at DESC, job_id DESC LIMIT :limit";

constexpr char kStop[] =
    "UPDATE polling_jobs SET status = 'stopped', lease_owner = NULL, lease_expires_at = NULL, "
    "updated_at = now() WHERE job_id = :id RETURNING " JOB_COLUMNS;

constexpr char kClaimDue[] =
    "WITH due AS ("
    "  SELECT job_id FROM polling_jobs"
    "  WHERE status IN ('accepted', 'running')"
    "    AND next_run_at <= now() + :lookahead_ms * interval '1 millisecond'"
    "    AND (lease_expires_at IS NULL OR lease_expires_at < now())"
    "  ORDER BY next_run_at LIMIT :limit FOR UPDATE SKIP LOCKED) "
    "UPDATE polling_jobs j SET lease_owner = :owner,"
    "  lease_expires_at = now() + :lease_ms * interval '1 millisecond',"
    "  status = 'running', updated_at = now() "
    "FROM due WHERE j.job_id = due.job_id RETURNING "
    "j.job_id, array_to_string(j.symbols, ','), j.interval_seconds, j.provider, j.status, "
    "CAST(extract(epoch FROM j.created_at) * 1000000 AS BIGINT), "
    "CAST(extract(epoch FROM j.last_run_at) * 1000000 AS BIGINT), "
    "CAST(extract(epoch FROM j.next_run_at) * 1000000 AS BIGINT), j.run_count, j.error_count, "
    "coalesce(j.last_error, ''), j.owner_key_id";

constexpr char kActiveUsage[] =
    "SELECT count(*), coalesce(sum(cardinality(symbols)), 0) FROM polling_jobs "
    "WHERE owner_key_id = :owner AND status IN ('accepted', 'running')";

// A lease that ran out is not renewed even when nobody has claimed it yet: the holder's own
// claimer may take it back meanwhile, and two runs of one tick must not both believe they hold it.
constexpr char kRenewLease[] =
    "UPDATE polling_jobs SET lease_expires_at = now() + :lease_ms * interval '1 millisecond' "
    "WHERE job_id = :id AND lease_owner = :owner AND status = 'running' "
    "  AND lease_expires_at > now() "
    "RETURNING job_id";

constexpr char kCompleteRun[] =
    "UPDATE polling_jobs SET "
    "  last_run_at = timestamptz 'epoch' + :started_us * interval '1 microsecond',"
    "  next_run_at = timestamptz 'epoch' + :next_us * interval '1 microsecond',"
    "  run_count = run_count + 1, error_count = error_count + :errors,"
    "  last_error = CASE WHEN :has_error = 1 THEN :last_error ELSE last_error END,"
    "  lease_owner = NULL, lease_expires_at = NULL, updated_at = now() "
    "WHERE job_id = :id AND lease_owner = :owner";

constexpr char kMarkFailed[] =
    "UPDATE polling_jobs SET status = 'failed', last_error = :reason, lease_owner = NULL,"
    "  lease_expires_at = NULL, updated_at = now() "
    "WHERE job_id = :id AND lease_owner = :owner AND status <> 'stopped'";

constexpr char kReleaseLeases[] =
    "UPDATE polling_jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = :owner";

#undef JOB_COLUMNS

PollingJob ReadJob(const soci::row& row) {
  PollingJob job;
  job.job_id = row.get<std::string>(0);
  job.config.symbols = absl::StrSplit(row.get<std::string>(1), ',', absl::SkipEmpty());
  job.config.interval_seconds = row.get<int>(2);
  job.config.provider = row.get<std::string>(3);
  job.status = ParseJobStatus(row.get<std::string>(4)).value_or(JobStatus::kFailed);
  job.created_at = absl::FromUnixMicros(row.get<long long>(5));
  if (row.get_indicator(6) == soci::i_ok) {
    job.last_run_at = absl::FromUnixMicros(row.get<long long>(6));
  }
  job.next_run_at = absl::FromUnixMicros(row.get<long long>(7));
  job.run_count = row.get<int>(8);
  job.error_count = row.get<int>(9);
  job.last_error = row.get<std::string>(10);
  if (row.get_indicator(11) == soci::i_ok) job.config.owner_key_id = row.get<long long>(11);
  return job;
}

std::string ArrayLiteral(const std::vector<std::string>& symbols) {
  // Symbols are validated to [A-Z0-9.=^-], none of which needs escaping inside quotes.
  return absl::StrCat("{\"", absl::StrJoin(symbols, "\",\""), "\"}");
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
  std::optional<PollingJob> created;
  absl::Status status = WithSession(db_, "creating a polling job", [&](Database::Lease& lease) {
    std::string symbols = ArrayLiteral(config.symbols);
    long long owner = config.owner_key_id.value_or(0);
    soci::indicator owner_set = config.owner_key_id.has_value() ? soci::i_ok : soci::i_null;
    soci::rowset<soci::row> rows =
        (lease->prepare << kInsert, soci::use(job_id, "id"), soci::use(symbols, "symbols"),
         soci::use(config.interval_seconds, "interval"), soci::use(config.provider, "provider"),
         soci::use(owner, owner_set, "owner"));
    for (const soci::row& row : rows) created = ReadJob(row);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!created.has_value()) {
    return absl::AlreadyExistsError(absl::StrCat("polling job ", job_id, " already exists"));
  }
  return *created;
}

absl::StatusOr<PollingJob> PostgresPollingJobStore::Get(const std::string& job_id) {
  return OneJob("reading a polling job", kGet, job_id);
}

absl::StatusOr<JobPage> PostgresPollingJobStore::List(const JobFilter& filter, int limit,
                                                      const std::string& page_token) {
  const std::optional<JobStatus>& status_filter = filter.status;
  long long cursor_us = 0;
  std::string cursor_id;
  if (!page_token.empty()) {
    if (absl::Status s = ParsePageToken(page_token, &cursor_us, &cursor_id); !s.ok()) return s;
  }
  JobPage page;
  absl::Status status = WithSession(db_, "listing polling jobs", [&](Database::Lease& lease) {
    int any_status = status_filter.has_value() ? 0 : 1;
    std::string status_name(status_filter.has_value() ? JobStatusName(*status_filter) : "");
    int first_page = page_token.empty() ? 1 : 0;
    int any_owner = filter.owner_key_id.has_value() ? 0 : 1;
    long long owner = filter.owner_key_id.value_or(0);
    int fetch = limit + 1;  // one more tells whether another page exists
    soci::rowset<soci::row> rows =
        (lease->prepare << kList, soci::use(any_status, "any_status"),
         soci::use(status_name, "status"), soci::use(any_owner, "any_owner"),
         soci::use(owner, "owner"), soci::use(first_page, "first_page"),
         soci::use(cursor_us, "cursor_us"), soci::use(cursor_id, "cursor_id"),
         soci::use(fetch, "limit"));
    for (const soci::row& row : rows) page.jobs.push_back(ReadJob(row));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (static_cast<int>(page.jobs.size()) > limit) {
    page.jobs.resize(limit);
    page.next_page_token = PageToken(page.jobs.back());
  }
  return page;
}

absl::StatusOr<JobUsage> PostgresPollingJobStore::ActiveUsage(int64_t owner_key_id) {
  JobUsage usage;
  absl::Status status = WithSession(db_, "counting polling jobs", [&](Database::Lease& lease) {
    long long owner = owner_key_id, jobs = 0, symbols = 0;
    lease->once << kActiveUsage, soci::use(owner, "owner"), soci::into(jobs), soci::into(symbols);
    usage.jobs = static_cast<int>(jobs);
    usage.symbols = static_cast<int>(symbols);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return usage;
}

absl::StatusOr<PollingJob> PostgresPollingJobStore::Stop(const std::string& job_id) {
  return OneJob("stopping a polling job", kStop, job_id);
}

absl::StatusOr<PollingJob> PostgresPollingJobStore::OneJob(absl::string_view what,
                                                           const char* sql,
                                                           const std::string& job_id) {
  std::optional<PollingJob> job;
  absl::Status status = WithSession(db_, what, [&](Database::Lease& lease) {
    soci::rowset<soci::row> rows = (lease->prepare << sql, soci::use(job_id, "id"));
    for (const soci::row& row : rows) job = ReadJob(row);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!job.has_value()) {
    return absl::NotFoundError(absl::StrCat("polling job ", job_id, " not found"));
  }
  return *job;
}

absl::StatusOr<std::vector<PollingJob>> PostgresPollingJobStore::ClaimDue(
    const std::string& owner, int limit, absl::Duration lookahead, absl::Duration lease_time) {
  std::vector<PollingJob> jobs;
  absl::Status status = WithSession(db_, "claiming polling jobs", [&](Database::Lease& lease) {
    long long lookahead_ms = absl::ToInt64Milliseconds(lookahead);
    long long lease_ms = absl::ToInt64Milliseconds(lease_time);
    soci::rowset<soci::row> rows =
        (lease->prepare << kClaimDue, soci::use(lookahead_ms, "lookahead_ms"),
         soci::use(limit, "limit"), soci::use(owner, "owner"), soci::use(lease_ms, "lease_ms"));
    for (const soci::row& row : rows) jobs.push_back(ReadJob(row));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return jobs;
}

absl::StatusOr<bool> PostgresPollingJobStore::RenewLease(const std::string& job_id,
                                                         const std::string& owner,
                                                         absl::Duration lease_time) {
  bool held = false;
  absl::Status status = WithSession(db_, "renewing a polling lease", [&](Database::Lease& lease) {
    long long lease_ms = absl::ToInt64Milliseconds(lease_time);
    soci::rowset<soci::row> rows =
        (lease->prepare << kRenewLease, soci::use(lease_ms, "lease_ms"), soci::use(job_id, "id"),
         soci::use(owner, "owner"));
    held = rows.begin() != rows.end();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return held;
}

absl::Status PostgresPollingJobStore::CompleteRun(const std::string& job_id,
                                                  const std::string& owner,
                                                  const JobRunResult& result) {
  return WithSession(db_, "recording a polling run", [&](Database::Lease& lease) {
    long long started_us = absl::ToUnixMicros(result.started_at);
    long long next_us = absl::ToUnixMicros(result.next_run_at);
    int has_error = result.errors > 0 ? 1 : 0;
    *lease << kCompleteRun, soci::use(started_us, "started_us"), soci::use(next_us, "next_us"),
        soci::use(result.errors, "errors"), soci::use(has_error, "has_error"),
        soci::use(result.last_error, "last_error"), soci::use(job_id, "id"),
        soci::use(owner, "owner");
    return absl::OkStatus();
  });
}

absl::Status PostgresPollingJobStore::MarkFailed(const std::string& job_id,
                                                 const std::string& owner,
                                                 const std::string& reason) {
  return WithSession(db_, "failing a polling job", [&](Database::Lease& lease) {
    *lease << kMarkFailed, soci::use(reason, "reason"), soci::use(job_id, "id"),
        soci::use(owner, "owner");
    return absl::OkStatus();
  });
}

absl::Status PostgresPollingJobStore::ReleaseLeases(const std::string& owner) {
  return WithSession(db_, "releasing polling leases", [&](Database::Lease& lease) {
    *lease << kReleaseLeases, soci::use(owner, "owner");
    return absl::OkStatus();
  });
}

}  // namespace marketdata
