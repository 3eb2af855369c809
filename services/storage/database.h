// Database: a pool of SOCI sessions to PostgreSQL, opened from DATABASE_URL (the reads that
// tolerate a replica have one of their own on DATABASE_READ_URL), and the one way the
// stores talk to it: a Lease runs prepared statements with SqlParams (Run) and plain SQL for
// transaction control and DDL (Exec), on the session's own libpq connection (prepared once per
// connection, one round trip a call; SOCI's own statements would parse and plan every time).
// Errors come back as statuses classified by SQLSTATE.
#ifndef MARKETDATA_SERVICES_STORAGE_DATABASE_H_
#define MARKETDATA_SERVICES_STORAGE_DATABASE_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/storage/sql_params.h"
#include "soci/connection-pool.h"
#include "soci/session.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace marketdata {

// Converts postgresql://user:pass@host:port/db?k=v (or postgres://) into libpq's keyword form,
// which SOCI's PostgreSQL backend passes through intact (it mangles URIs). A list of hosts,
// host1:port1,host2:port2, becomes libpq's lists host='host1,host2' port='port1,port2'. A string
// that is already in keyword form is returned unchanged. Errors name `setting`.
absl::StatusOr<std::string> ToConnectString(absl::string_view database_url,
                                            absl::string_view setting = "DATABASE_URL");

// The same URL with its password replaced by "***", for logs and errors.
std::string RedactDatabaseUrl(absl::string_view database_url);

// A statement with $1, $2, ... parameters that each connection prepares once, on first use, and
// from then on only executes: one round trip per call, no parsing or planning. `name` must be
// unique per statement text.
struct PreparedSql {
  const char* name;
  const char* sql;
};

// The rows of one executed statement, as text.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}
  PgResult(PgResult&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  PgResult& operator=(PgResult&& other) noexcept;
  ~PgResult();

  int rows() const;
  absl::string_view text(int row, int column) const;
  // The value as an integer; 0 when null or not a number.
  int64_t int64(int row, int column) const;
  // The value as a double (PostgreSQL prints floats exactly); 0 when null or not a number.
  double float64(int row, int column) const;
  // A timestamptz (the pool's sessions print them in ISO form, in UTC); InfinitePast when null
  // or unreadable.
  absl::Time time(int row, int column) const;
  std::optional<int64_t> optional_int64(int row, int column) const;
  std::optional<double> optional_float64(int row, int column) const;
  std::optional<absl::Time> optional_time(int row, int column) const;
  bool null(int row, int column) const;
  PGresult* get() const { return result_; }

 private:
  PGresult* result_;
};

// How a pool behaves when PostgreSQL is slow or gone: every wait is bounded.
struct DatabaseOptions {
  size_t pool_size = 4;
  // Connect() retries this long for the first connections (the server may still be starting).
  absl::Duration connect_wait = absl::Seconds(30);
  // One connection attempt (libpq's connect_timeout, whole seconds, at least 2).
  absl::Duration connect_timeout = absl::Seconds(5);
  // The longest a statement may run on the server (statement_timeout); zero: no limit.
  absl::Duration statement_timeout = absl::Seconds(30);
  // The longest Acquire() waits for a free session of the pool.
  absl::Duration pool_wait = absl::Seconds(5);
  // The setting the URL comes from: errors of a pool that cannot reach its server name it, with
  // the URL without its password ("cannot connect to DATABASE_READ_URL=postgresql://u:***@h/db").
  std::string setting = "DATABASE_URL";
};

class Database {
 public:
  // Opens `options.pool_size` sessions, retrying until `connect_wait` has passed. The error names
  // `options.setting` and the URL without its password.
  static absl::StatusOr<std::unique_ptr<Database>> Connect(absl::string_view database_url,
                                                           const DatabaseOptions& options);
  static absl::StatusOr<std::unique_ptr<Database>> Connect(absl::string_view database_url,
                                                           size_t pool_size, absl::Duration wait);
  // A pool that does not need its server at start, for one whose absence must not stop the
  // process (a replica): tries its sessions once, without retrying, and leaves those it could not
  // open to Acquire(), which opens them on first use and meanwhile fails with UNAVAILABLE, naming
  // the URL without its password. Fails only for a URL that is not one.
  static absl::StatusOr<std::unique_ptr<Database>> ConnectLazily(absl::string_view database_url,
                                                                 const DatabaseOptions& options);

  // A session of the pool, held for one unit of work. A Lease is always connected: Acquire()
  // reconnects a session the server dropped, and fails with UNAVAILABLE when it cannot.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    soci::session& session() { return *session_; }
    soci::session& operator*() { return *session_; }
    soci::session* operator->() { return session_; }
    // The session's own libpq connection. Never null. Stores do not use it (nor session()):
    // they talk to PostgreSQL through Run and Exec only.
    PGconn* pg() { return conn_; }

    // Executes `statement` (prepared on this connection the first time) with `params`.
    // Errors are classified by SQLSTATE (see StatusFromSqlState), with `what` as context.
    absl::StatusOr<PgResult> Run(const PreparedSql& statement, const SqlParams& params,
                                 absl::string_view what);
    // One or more statements without parameters, not prepared: transaction control, DDL.
    absl::StatusOr<PgResult> Exec(absl::string_view sql, absl::string_view what);

   private:
    friend class Database;
    Lease(Database* db, size_t position, soci::session* session, PGconn* conn)
        : db_(db), position_(position), session_(session), conn_(conn) {}
    absl::StatusOr<PgResult> RunValues(const PreparedSql& statement,
                                       const std::vector<const char*>& values,
                                       absl::string_view what);

    Database* db_;  // null once moved from
    size_t position_;
    soci::session* session_;
    PGconn* conn_;
  };

  // A connected session, or UNAVAILABLE: every session busy for longer than `pool_wait`, or the
  // server unreachable (within connect_timeout; the message names `options.setting` and the URL
  // without its password).
  absl::StatusOr<Lease> Acquire();
  size_t pool_size() const { return options_.pool_size; }

  // How busy the pool is, for metrics. Counted without a lock: the fields may be a moment apart.
  struct PoolStats {
    size_t size = 0;
    size_t in_use = 0;        // leased sessions
    int64_t waits = 0;        // Acquire() calls that found every session busy
    double wait_seconds = 0;  // time those calls waited, whether they got a session or not
  };
  PoolStats pool_stats() const;

  // OK when PostgreSQL answers a trivial query on a session of the pool; also OK when every
  // session is busy for a second (they are working). For health checks.
  absl::Status Ping();

 private:
  // What the pool knows about each of its sessions; an entry is only touched by the holder of
  // that session's lease.
  struct Connection {
    absl::Time last_used = absl::InfinitePast();
    PGconn* prepared_on = nullptr;  // the connection `prepared` belongs to (reset on reconnect)
    std::vector<std::string> prepared;
  };

  Database(std::string connect_string, std::string name, const DatabaseOptions& options)
      : connect_string_(std::move(connect_string)),
        name_(std::move(name)),
        options_(options),
        pool_(options.pool_size),
        connections_(options.pool_size) {}

  // A pool with no session open yet.
  static absl::StatusOr<std::unique_ptr<Database>> Create(absl::string_view database_url,
                                                          const DatabaseOptions& options);
  // Opens (or re-opens) session `position`; the caller holds it.
  void Open(size_t position);

  const std::string connect_string_;
  const std::string name_;  // SETTING=url without its password, for errors
  const DatabaseOptions options_;
  soci::connection_pool pool_;
  std::vector<Connection> connections_;
  std::atomic<int64_t> in_use_{0};
  std::atomic<int64_t> waits_{0};
  std::atomic<int64_t> wait_nanos_{0};
};

// The status for a failed statement, from its SQLSTATE (`sqlstate` may be empty when no server
// answered): a lost or refused connection, a server shutting down or out of resources, a
// deadlock or serialization failure are UNAVAILABLE (worth retrying); a cancelled statement
// (statement_timeout) is DEADLINE_EXCEEDED; a unique violation ALREADY_EXISTS; anything else,
// a value the server rejects included, INTERNAL (requests are validated before they get here).
// The message carries `what` only; the server's text goes to the log.
// The status also carries the SQLSTATE, which SqlStateOf reads back.
absl::Status StatusFromSqlState(absl::string_view what, absl::string_view sqlstate,
                                absl::string_view server_message, bool connection_ok);

// The SQLSTATE of a status made by StatusFromSqlState; empty for any other.
std::string SqlStateOf(const absl::Status& status);

// PostgreSQL's lock_not_available: a statement gave up waiting for its lock (lock_timeout).
inline constexpr char kSqlStateLockNotAvailable[] = "55P03";

// One statement on a session of the pool, for the stores' one-statement calls.
absl::StatusOr<PgResult> RunStatement(Database& db, const PreparedSql& statement,
                                      const SqlParams& params, absl::string_view what);

// Runs `fn` inside a transaction on `lease`: committed when it returns OK, rolled back otherwise
// (its status is returned).
absl::Status InTransaction(Database::Lease& lease, absl::string_view what,
                           const std::function<absl::Status()>& fn);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_DATABASE_H_
