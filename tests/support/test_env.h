// What integration tests need from the environment: the private PostgreSQL and Kafka started by
// ./deploy/dev test. A missing setting fails the test with a message saying how to run it; it is
// never skipped.
#ifndef MARKETDATA_TESTS_SUPPORT_TEST_ENV_H_
#define MARKETDATA_TESTS_SUPPORT_TEST_ENV_H_

#include <memory>
#include <string>

#include "services/storage/database.h"

namespace marketdata::testing {

// MDS_TEST_DATABASE_URL / MDS_TEST_KAFKA_BOOTSTRAP_SERVERS, or a fatal test failure.
std::string DatabaseUrl();
std::string KafkaBootstrapServers();

// A lease on `db`; a test that cannot get one stops with the reason.
Database::Lease MustAcquire(Database& db);

// A name no other test uses ("<prefix>_<pid>_<random>").
std::string UniqueName(const std::string& prefix);

// A database of its own for one test: created empty on construction, dropped on destruction.
class ScratchDatabase {
 public:
  ScratchDatabase();
  ~ScratchDatabase();
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  // A pool on the scratch database, with every migration applied.
  std::unique_ptr<Database> ConnectMigrated(size_t pool_size = 2);

 private:
  std::string name_;
  std::string url_;
};

}  // namespace marketdata::testing

#endif  // MARKETDATA_TESTS_SUPPORT_TEST_ENV_H_
