// Database: a pool of SOCI sessions to PostgreSQL, opened from DATABASE_URL.
#ifndef MARKETDATA_SERVICES_STORAGE_DATABASE_H_
#define MARKETDATA_SERVICES_STORAGE_DATABASE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "soci/connection-pool.h"
#include "soci/session.h"

typedef struct pg_conn PGconn;

namespace marketdata {

// Converts postgresql://user:pass@host:port/db?k=v (or postgres://) into libpq's keyword form,
// which SOCI's PostgreSQL backend passes through intact (it mangles URIs). A string that is
// already in keyword form is returned unchanged.
absl::StatusOr<std::string> ToConnectString(absl::string_view database_url);

// The same URL with its password replaced by "***", for logs and errors.
std::string RedactDatabaseUrl(absl::string_view database_url);

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
    explicit Lease(soci::connection_pool& pool);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    soci::session& session() { return *session_; }
    soci::session& operator*() { return *session_; }
    soci::session* operator->() { return session_; }
    // The raw libpq connection, for COPY and multi-statement scripts.
    PGconn* pg();

   private:
    soci::connection_pool& pool_;
    size_t position_;
    soci::session* session_;
  };

  Lease Borrow() { return Lease(pool_); }
  size_t pool_size() const { return pool_size_; }

  // Runs a script of several statements (no parameters) on `lease`.
  static absl::Status ExecScript(Lease& lease, const std::string& sql);

 private:
  explicit Database(size_t pool_size) : pool_(pool_size), pool_size_(pool_size) {}

  soci::connection_pool pool_;
  size_t pool_size_;
};

// Runs `fn(session)` and turns a SOCI exception into an UNAVAILABLE/INTERNAL status with `what`
// as context. Returns fn's own status otherwise.
template <typename Fn>
absl::Status WithSession(Database& db, absl::string_view what, Fn&& fn);

absl::Status DatabaseError(absl::string_view what, const std::exception& e);

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
