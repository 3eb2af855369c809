// Database: a pool of SOCI sessions to PostgreSQL, opened from DATABASE_URL.
#ifndef MARKETDATA_SERVICES_STORAGE_DATABASE_H_
#define MARKETDATA_SERVICES_STORAGE_DATABASE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "soci/connection-pool.h"
#include "soci/session.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace marketdata {

// Converts postgresql://user:pass@host:port/db?k=v (or postgres://) into libpq's keyword form,
// which SOCI's PostgreSQL backend passes through intact (it mangles URIs). A string that is
// already in keyword form is returned unchanged.
absl::StatusOr<std::string> ToConnectString(absl::string_view database_url);

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
  PgResult& operator=(PgResult&&) = delete;
  ~PgResult();

  int rows() const;
  absl::string_view text(int row, int column) const;
  // The value as an integer; 0 when null or not a number.
  int64_t int64(int row, int column) const;
  PGresult* get() const { return result_; }

 private:
  PGresult* result_;
};

class Database {
 public:
  // Opens `pool_size` sessions, retrying until `wait` has passed (the server may still be
  // starting). The error names DATABASE_URL without its password.
  static absl::StatusOr<std::unique_ptr<Database>> Connect(absl::string_view database_url,
                                                           size_t pool_size, absl::Duration wait);

  // A session borrowed from the pool for one unit of work; reconnected first if the server
  // dropped it.
  class Lease {
   public:
    explicit Lease(Database& db);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    soci::session& session() { return *session_; }
    soci::session& operator*() { return *session_; }
    soci::session* operator->() { return session_; }
    // The raw libpq connection, for COPY and multi-statement scripts.
    PGconn* pg();

    // Executes `statement` (prepared on this connection the first time) with text parameters.
    // A unique violation is ALREADY_EXISTS; other errors are classified as DatabaseError does,
    // with `what` as context.
    absl::StatusOr<PgResult> Execute(const PreparedSql& statement,
                                     const std::vector<std::string>& params,
                                     absl::string_view what);

   private:
    Database& db_;
    size_t position_;
    soci::session* session_;
  };

  Lease Borrow() { return Lease(*this); }
  size_t pool_size() const { return pool_size_; }

  // Runs a script of several statements (no parameters) on `lease`.
  static absl::Status ExecScript(Lease& lease, const std::string& sql);

 private:
  // What the pool knows about each of its sessions; an entry is only touched by the holder of
  // that session's lease.
  struct Connection {
    absl::Time last_used = absl::InfinitePast();
    PGconn* prepared_on = nullptr;  // the connection `prepared` belongs to (reset on reconnect)
    std::vector<std::string> prepared;
  };

  explicit Database(size_t pool_size)
      : pool_(pool_size), pool_size_(pool_size), connections_(pool_size) {}

  soci::connection_pool pool_;
  size_t pool_size_;
  std::vector<Connection> connections_;
};

// Runs `fn(session)` and turns a SOCI exception into an UNAVAILABLE/INTERNAL status with `what`
// as context. Returns fn's own status otherwise.
template <typename Fn>
absl::Status WithSession(Database& db, absl::string_view what, Fn&& fn);

absl::Status DatabaseError(absl::string_view what, const std::exception& e);
absl::Status DatabaseError(absl::string_view what, absl::string_view message);

template <typename Fn>
absl::Status WithSession(Database& db, absl::string_view what, Fn&& fn) {
  try {
    Database::Lease lease = db.Borrow();
    return fn(lease);
  } catch (const std::exception& e) {
    return DatabaseError(what, e);
  }
}

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_DATABASE_H_
