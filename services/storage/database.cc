#include "services/storage/database.h"

#include <libpq-fe.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "soci/postgresql/soci-postgresql.h"
#include "soci/soci-backend.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

// Percent-decodes a URL component.
std::string Decode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int value = 0;
      if (absl::SimpleHexAtoi(s.substr(i + 1, 2), &value)) {
        out += static_cast<char>(value);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// Quotes a keyword value for libpq: 'it''s' style escaping.
std::string Quote(absl::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

absl::StatusOr<std::string> ToConnectString(absl::string_view url, absl::string_view setting) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "postgresql://") && !absl::ConsumePrefix(&rest, "postgres://")) {
    if (absl::StrContains(url, "=")) return std::string(url);  // already keyword form
    return absl::InvalidArgumentError(absl::StrCat(
        setting, " must look like postgresql://user:password@host:port/database"));
  }
  std::vector<std::string> parts;
  absl::string_view query;
  if (size_t q = rest.find('?'); q != absl::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  absl::string_view authority = rest, database;
  if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    authority = rest.substr(0, slash);
    database = rest.substr(slash + 1);
  }
  if (size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    absl::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    absl::string_view user = userinfo, password;
    if (size_t colon = userinfo.find(':'); colon != absl::string_view::npos) {
      user = userinfo.substr(0, colon);
      password = userinfo.substr(colon + 1);
    }
    if (!user.empty()) parts.push_back(absl::StrCat("user=", Quote(Decode(user))));
    if (!password.empty()) parts.push_back(absl::StrCat("password=", Quote(Decode(password))));
  }
  // host[:port], or a list of them separated by commas: libpq takes a list of hosts and one of
  // their ports (an empty port is the default one).
  std::vector<std::string> hosts, ports;
  bool any_port = false;
  for (absl::string_view item : absl::StrSplit(authority, ',')) {
    absl::string_view host = item, port;
    if (!item.empty() && item.front() == '[') {  // [::1]:5432
      size_t close = item.find(']');
      if (close == absl::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat(setting, " has an unterminated IPv6 host"));
      }
      host = item.substr(1, close - 1);
      absl::string_view after = item.substr(close + 1);
      if (absl::ConsumePrefix(&after, ":")) port = after;
    } else if (size_t colon = item.rfind(':'); colon != absl::string_view::npos) {
      host = item.substr(0, colon);
      port = item.substr(colon + 1);
    }
    hosts.push_back(Decode(host));
    if (port.empty()) {
      ports.emplace_back();
      continue;
    }
    int parsed = 0;
    if (!absl::SimpleAtoi(port, &parsed) || parsed <= 0 || parsed > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat(setting, " has an invalid port \"", port, "\""));
    }
    ports.push_back(absl::StrCat(parsed));
    any_port = true;
  }
  if (hosts.size() > 1 || !hosts.front().empty()) {
    parts.push_back(absl::StrCat("host=", Quote(absl::StrJoin(hosts, ","))));
  }
  if (any_port) {
    parts.push_back(hosts.size() == 1 ? absl::StrCat("port=", ports.front())
                                      : absl::StrCat("port=", Quote(absl::StrJoin(ports, ","))));
  }
  if (!database.empty()) parts.push_back(absl::StrCat("dbname=", Quote(Decode(database))));
  for (absl::string_view kv : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    parts.push_back(absl::StrCat(Decode(p.first), "=", Quote(Decode(p.second))));
  }
  return absl::StrJoin(parts, " ");
}

std::string RedactDatabaseUrl(absl::string_view url) {
  size_t scheme = url.find("://");
  size_t at = url.rfind('@');
  if (scheme == absl::string_view::npos || at == absl::string_view::npos || at < scheme) {
    return absl::StrContains(url, "password") ? "(keyword connection string)" : std::string(url);
  }
  size_t colon = url.find(':', scheme + 3);
  if (colon == absl::string_view::npos || colon > at) return std::string(url);
  return absl::StrCat(url.substr(0, colon + 1), "***", url.substr(at));
}

namespace {

// A session used within this long is taken as alive without asking the server; an idle one is
// checked first (a round trip) and reconnected if the server dropped it.
constexpr absl::Duration kTrustedIdle = absl::Seconds(1);

constexpr absl::string_view kDuplicatePreparedStatement = "42P05";
constexpr absl::string_view kUnknownPreparedStatement = "26000";

absl::string_view SqlState(const PGresult* result) {
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return state == nullptr ? absl::string_view() : absl::string_view(state);
}

PGconn* Conn(soci::session& session) {
  auto* backend = static_cast<soci::postgresql_session_backend*>(session.get_backend());
  return backend == nullptr ? nullptr : backend->conn_;
}

// Server notices ("... already exists, skipping") go to the debug log, not stderr.
void RouteNotices(PGconn* conn) {
  PQsetNoticeProcessor(
      conn,
      [](void*, const char* message) {
        spdlog::debug("postgres: {}", std::string(absl::StripTrailingAsciiWhitespace(message)));
      },
      nullptr);
}

// Bounds every connection attempt and statement. Put first: the URL's own settings, later in the
// string, win.
std::string WithTimeouts(const std::string& connect, const DatabaseOptions& options) {
  std::string prefix = absl::StrCat(
      "connect_timeout=", std::max<int64_t>(2, absl::ToInt64Seconds(options.connect_timeout)));
  if (options.statement_timeout > absl::ZeroDuration()) {
    absl::StrAppend(&prefix, " options='-c statement_timeout=",
                    absl::ToInt64Milliseconds(options.statement_timeout), "'");
  }
  return absl::StrCat(prefix, " ", connect);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> Database::Connect(absl::string_view database_url,
                                                            size_t pool_size,
                                                            absl::Duration wait) {
  DatabaseOptions options;
  options.pool_size = pool_size;
  options.connect_wait = wait;
  return Connect(database_url, options);
}

absl::StatusOr<std::unique_ptr<Database>> Database::Create(absl::string_view database_url,
                                                           const DatabaseOptions& options) {
  absl::StatusOr<std::string> connect = ToConnectString(database_url, options.setting);
  if (!connect.ok()) return connect.status();
  return std::unique_ptr<Database>(
      new Database(WithTimeouts(*connect, options),
                   absl::StrCat(options.setting, "=", RedactDatabaseUrl(database_url)), options));
}

absl::StatusOr<std::unique_ptr<Database>> Database::Connect(absl::string_view database_url,
                                                            const DatabaseOptions& options) {
  absl::StatusOr<std::unique_ptr<Database>> db = Create(database_url, options);
  if (!db.ok()) return db.status();
  const absl::Time deadline = absl::Now() + options.connect_wait;
  for (size_t i = 0; i < options.pool_size; ++i) {
    while (true) {
      try {
        (*db)->Open(i);
        break;
      } catch (const std::exception& e) {
        if (absl::Now() >= deadline) {
          return absl::UnavailableError(absl::StrCat("cannot connect to ", (*db)->name_, ": ",
                                                     absl::StripTrailingAsciiWhitespace(e.what())));
        }
        spdlog::info("database not reachable yet, retrying: {}", e.what());
        absl::SleepFor(absl::Milliseconds(500));
      }
    }
  }
  return db;
}

absl::StatusOr<std::unique_ptr<Database>> Database::ConnectLazily(
    absl::string_view database_url, const DatabaseOptions& options) {
  absl::StatusOr<std::unique_ptr<Database>> db = Create(database_url, options);
  if (!db.ok()) return db.status();
  for (size_t i = 0; i < options.pool_size; ++i) {
    try {
      (*db)->Open(i);
    } catch (const std::exception& e) {
      // The others would fail alike, each after up to connect_timeout: they wait for Acquire().
      spdlog::warn("cannot connect to {} yet, its calls fail as unavailable until it answers: {}",
                   (*db)->name_, std::string(absl::StripTrailingAsciiWhitespace(e.what())));
      break;
    }
  }
  return db;
}

void Database::Open(size_t position) {
  soci::session& session = pool_.at(position);
  connections_[position].prepared.clear();  // they die with the old connection
  connections_[position].prepared_on = nullptr;
  if (session.get_backend() != nullptr) {
    session.reconnect();
  } else {
    session.open(soci::postgresql, connect_string_);
  }
  PGconn* conn = Conn(session);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    throw soci::soci_error("the new connection is not usable");
  }
  RouteNotices(conn);
  // Times are read back as the session prints them: ISO, in UTC (see ParseSqlTime), whatever
  // the server's or the URL's settings.
  PgResult set(PQexec(conn, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'"));
  if (PQresultStatus(set.get()) != PGRES_COMMAND_OK) {
    throw soci::soci_error("cannot set the session's time zone");
  }
}

absl::StatusOr<Database::Lease> Database::Acquire() {
  size_t position = 0;
  // A free session is taken at once (a timeout of 0 does not wait); only a busy pool pays for the
  // clock reads that measure the wait.
  if (!pool_.try_lease(position, 0)) {
    waits_.fetch_add(1, std::memory_order_relaxed);
    const absl::Time start = absl::Now();
    const bool leased = pool_.try_lease(
        position, static_cast<int>(absl::ToInt64Milliseconds(options_.pool_wait)));
    wait_nanos_.fetch_add(absl::ToInt64Nanoseconds(absl::Now() - start),
                          std::memory_order_relaxed);
    if (!leased) {
      return absl::UnavailableError(absl::StrCat("database busy: no free connection within ",
                                                 absl::FormatDuration(options_.pool_wait)));
    }
  }
  soci::session& session = pool_.at(position);
  PGconn* conn = Conn(session);
  const bool idle = absl::Now() - connections_[position].last_used > kTrustedIdle;
  // A session whose last reconnect failed has no backend at all.
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK || (idle && !session.is_connected())) {
    try {
      Open(position);
      conn = Conn(session);
    } catch (const std::exception& e) {
      pool_.give_back(position);
      spdlog::debug("database: cannot reconnect to {}: {}", name_,
                   std::string(absl::StripTrailingAsciiWhitespace(e.what())));
      // Clients learn which setting's server is away, not its address nor its user: the log
      // line above and the one at start name those, for operators.
      const absl::string_view setting = absl::string_view(name_).substr(0, name_.find('='));
      return absl::UnavailableError(
          absl::StrCat("database unavailable: cannot connect to the server of ", setting));
    }
  }
  in_use_.fetch_add(1, std::memory_order_relaxed);
  return Lease(this, position, &session, conn);
}

Database::PoolStats Database::pool_stats() const {
  PoolStats stats;
  stats.size = options_.pool_size;
  stats.in_use = static_cast<size_t>(std::max<int64_t>(0, in_use_.load(std::memory_order_relaxed)));
  stats.waits = waits_.load(std::memory_order_relaxed);
  stats.wait_seconds = static_cast<double>(wait_nanos_.load(std::memory_order_relaxed)) / 1e9;
  return stats;
}

absl::Status Database::Ping() {
  size_t position = 0;
  if (!pool_.try_lease(position, 1000)) return absl::OkStatus();
  pool_.give_back(position);
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  PgResult result(PQexec(lease->pg(), "SELECT 1"));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return StatusFromSqlState("checking the database", SqlState(result.get()),
                              PQresultErrorMessage(result.get()),
                              PQstatus(lease->pg()) == CONNECTION_OK);
  }
  return absl::OkStatus();
}

Database::Lease::Lease(Lease&& other) noexcept
    : db_(other.db_), position_(other.position_), session_(other.session_), conn_(other.conn_) {
  other.db_ = nullptr;
}

Database::Lease::~Lease() {
  if (db_ == nullptr) return;
  db_->connections_[position_].last_used = absl::Now();
  db_->in_use_.fetch_sub(1, std::memory_order_relaxed);
  db_->pool_.give_back(position_);
}

absl::StatusOr<PgResult> Database::Lease::Run(const PreparedSql& statement,
                                              const SqlParams& params, absl::string_view what) {
  std::vector<const char*> values;
  values.reserve(params.values().size());
  for (const std::optional<std::string>& p : params.values()) {
    values.push_back(p.has_value() ? p->c_str() : nullptr);
  }
  return RunValues(statement, values, what);
}

absl::StatusOr<PgResult> Database::Lease::Exec(absl::string_view sql, absl::string_view what) {
  PgResult result(PQexec(conn_, std::string(sql).c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return StatusFromSqlState(what, SqlState(result.get()), PQresultErrorMessage(result.get()),
                              PQstatus(conn_) == CONNECTION_OK);
  }
  return result;
}

absl::StatusOr<PgResult> Database::Lease::RunValues(const PreparedSql& statement,
                                                    const std::vector<const char*>& values,
                                                    absl::string_view what) {
  Connection& state = db_->connections_[position_];
  if (state.prepared_on != conn_) {
    state.prepared.clear();
    state.prepared_on = conn_;
  }
  if (std::find(state.prepared.begin(), state.prepared.end(), statement.name) ==
      state.prepared.end()) {
    PgResult prepared(PQprepare(conn_, statement.name, statement.sql,
                                static_cast<int>(values.size()), nullptr));
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK &&
        SqlState(prepared.get()) != kDuplicatePreparedStatement) {
      return StatusFromSqlState(what, SqlState(prepared.get()), PQerrorMessage(conn_),
                                PQstatus(conn_) == CONNECTION_OK);
    }
    state.prepared.emplace_back(statement.name);
  }
  PgResult result(PQexecPrepared(conn_, statement.name, static_cast<int>(values.size()),
                                 values.data(), nullptr, nullptr, 0));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    // Prepared again next time, should the server have lost them (DISCARD ALL, a pooler).
    if (SqlState(result.get()) == kUnknownPreparedStatement) state.prepared.clear();
    return StatusFromSqlState(what, SqlState(result.get()), PQerrorMessage(conn_),
                              PQstatus(conn_) == CONNECTION_OK);
  }
  return result;
}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

PgResult::~PgResult() {
  if (result_ != nullptr) PQclear(result_);
}

int PgResult::rows() const { return PQntuples(result_); }

absl::string_view PgResult::text(int row, int column) const {
  return absl::string_view(PQgetvalue(result_, row, column),
                           static_cast<size_t>(PQgetlength(result_, row, column)));
}

int64_t PgResult::int64(int row, int column) const {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text(row, column), &value)) return 0;
  return value;
}

double PgResult::float64(int row, int column) const {
  double value = 0;
  if (!absl::SimpleAtod(text(row, column), &value)) return 0;
  return value;
}

absl::Time PgResult::time(int row, int column) const {
  if (null(row, column)) return absl::InfinitePast();
  absl::StatusOr<absl::Time> t = ParseSqlTime(text(row, column));
  return t.ok() ? *t : absl::InfinitePast();
}

std::optional<int64_t> PgResult::optional_int64(int row, int column) const {
  if (null(row, column)) return std::nullopt;
  return int64(row, column);
}

std::optional<double> PgResult::optional_float64(int row, int column) const {
  if (null(row, column)) return std::nullopt;
  return float64(row, column);
}

std::optional<absl::Time> PgResult::optional_time(int row, int column) const {
  if (null(row, column)) return std::nullopt;
  return time(row, column);
}

bool PgResult::null(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

absl::StatusOr<PgResult> RunStatement(Database& db, const PreparedSql& statement,
                                      const SqlParams& params, absl::string_view what) {
  absl::StatusOr<Database::Lease> lease = db.Acquire();
  if (!lease.ok()) {
    return absl::Status(lease.status().code(), absl::StrCat(what, ": ", lease.status().message()));
  }
  return lease->Run(statement, params, what);
}

absl::Status InTransaction(Database::Lease& lease, absl::string_view what,
                           const std::function<absl::Status()>& fn) {
  if (absl::StatusOr<PgResult> begin = lease.Exec("BEGIN", what); !begin.ok()) {
    return begin.status();
  }
  absl::Status status = fn();
  if (status.ok()) {
    absl::StatusOr<PgResult> commit = lease.Exec("COMMIT", what);
    if (commit.ok()) return absl::OkStatus();
    status = commit.status();
  }
  (void)lease.Exec("ROLLBACK", what);
  return status;
}


namespace {

constexpr char kSqlStatePayload[] = "type.marketdata/sqlstate";

absl::Status Classified(absl::string_view what, absl::string_view sqlstate,
                        absl::string_view server_message, bool connection_ok);

}  // namespace

std::string SqlStateOf(const absl::Status& status) {
  auto state = status.GetPayload(kSqlStatePayload);
  return state.has_value() ? std::string(*state) : std::string();
}

absl::Status StatusFromSqlState(absl::string_view what, absl::string_view sqlstate,
                                absl::string_view server_message, bool connection_ok) {
  absl::Status status = Classified(what, sqlstate, server_message, connection_ok);
  if (!sqlstate.empty()) status.SetPayload(kSqlStatePayload, absl::Cord(sqlstate));
  return status;
}

namespace {

absl::Status Classified(absl::string_view what, absl::string_view sqlstate,
                        absl::string_view server_message, bool connection_ok) {
  const std::string detail(absl::StripTrailingAsciiWhitespace(server_message));
  auto cls = [&](absl::string_view prefix) { return absl::StartsWith(sqlstate, prefix); };
  if (!connection_ok || cls("08") || cls("53") || cls("57P") || cls("58") ||
      sqlstate == "40001" || sqlstate == "40P01") {
    spdlog::warn("database unavailable while {}: [{}] {}", std::string(what), std::string(sqlstate), detail);
    return absl::UnavailableError(absl::StrCat("database unavailable: ", what));
  }
  if (sqlstate == "57014") {
    spdlog::warn("database statement timed out while {}: {}", std::string(what), detail);
    return absl::DeadlineExceededError(absl::StrCat("database too slow: ", what));
  }
  if (sqlstate == "23505") {
    return absl::AlreadyExistsError(absl::StrCat(what, ": already exists"));
  }
  spdlog::error("database error while {}: [{}] {}", std::string(what), std::string(sqlstate), detail);
  return absl::InternalError(absl::StrCat("database error: ", what));
}

}  // namespace

}  // namespace marketdata
