// DATABASE_READ_URL against a real PostgreSQL, through the services' own classes wired as the
// composition roots wire them: the reads that tolerate a replica (price history, snapshots,
// moving averages, bars) go through the pool ConnectReadPool opens, and everything else through
// the pool on DATABASE_URL.
//
// A read pool whose sessions are read-only (default_transaction_read_only=on, as on a standby)
// serves every one of those reads, and refuses a write, so they do go through it; a read pool
// whose server is down, or answers nothing, fails those reads with UNAVAILABLE within the
// connect timeout, naming DATABASE_READ_URL without its password, while latest prices are still
// fetched and stored through the primary.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/api/price_service.h"
#include "services/auth/authorizer.h"
#include "services/common/testing/in_process_server.h"
#include "services/consumer/bar_service.h"
#include "services/consumer/moving_average_service.h"
#include "services/events/fake_publisher.h"
#include "services/pricing/price_recorder.h"
#include "services/providers/registry.h"
#include "services/providers/test_provider.h"
#include "services/storage/bar_store.h"
#include "services/storage/database_settings.h"
#include "services/storage/moving_average_store.h"
#include "services/storage/price_store.h"
#include "services/storage/snapshot_store.h"
#include "tests/support/test_bars.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::MakeBar;
using ::marketdata::testing::MustAcquire;
using ::marketdata::testing::ScratchDatabase;

// 2026-01-01T00:00:00Z: in the test databases' partition of old times.
constexpr int64_t kT0 = 1767225600;
absl::Time At(int64_t seconds) { return absl::FromUnixSeconds(kT0 + seconds); }

// `url` with `query` added to its query string.
std::string WithQuery(const std::string& url, const std::string& query) {
  return absl::StrCat(url, url.find('?') == std::string::npos ? "?" : "&", query);
}

// `url` with its host and port replaced.
std::string WithHost(const std::string& url, const std::string& host_port) {
  const size_t at = url.find('@');
  const size_t slash = url.find('/', at);
  return url.substr(0, at + 1) + host_port + url.substr(slash);
}

// `url` with the password `password` (postgresql://user:password@...).
std::string WithPassword(const std::string& url, const std::string& password) {
  const size_t scheme = url.find("://") + 3;
  const size_t at = url.find('@');
  const size_t colon = url.find(':', scheme);
  const std::string user = url.substr(scheme, std::min(colon, at) - scheme);
  return absl::StrCat(url.substr(0, scheme), user, ":", password, url.substr(at));
}

Quote Price(const std::string& symbol, absl::Time at, double price) {
  Quote q;
  q.symbol = symbol;
  q.price = price;
  q.timestamp = at;
  q.provider = "test";
  q.raw_response = R"({"price":1})";
  q.volume = 10;
  return q;
}

// What the tests store through the primary: three AAPL prices, two averages of window 2 and a
// one-minute bar.
void Seed(Database& primary) {
  PostgresPriceStore prices(primary);
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<StoredPrice> stored = prices.SavePrice(Price("AAPL", At(10 * i), 100 + i));
    ASSERT_TRUE(stored.ok()) << stored.status();
    ids.push_back(stored->price_point_id);
  }
  PostgresMovingAverageStore averages(primary);
  ASSERT_TRUE(averages
                  .SaveAverages({AverageRow{"AAPL", 2, 100.5, At(10), ids[1]},
                                 AverageRow{"AAPL", 2, 101.5, At(20), ids[2]}})
                  .ok());
  const Bar bar = MakeBar("AAPL", 60, At(0), 100, 102, 100, 102, 3, 30);
  absl::StatusOr<std::vector<Bar>> written = PostgresBarStore(primary).Update(
      {bar.key}, [&bar](const absl::flat_hash_map<BarKey, Bar>&) {
        BarPlan plan;
        plan.updated = {bar};
        return plan;
      });
  ASSERT_TRUE(written.ok()) << written.status();
}

// mds-api's and mds-consumer's services, wired as their main() does: latest prices recorded
// through the primary, the reads that tolerate a replica through `reads`.
class Services {
 public:
  Services(Database& primary, Database& reads)
      : store_(primary), history_(reads), snapshots_(reads), average_reads_(reads),
        bar_reads_(reads) {
    registry_.Add(std::make_unique<TestProvider>(7));
  }
  ~Services() {
    price_hub_.Shutdown();
    average_hub_.Shutdown();
    bar_hub_.Shutdown();
  }

  grpc::Status Latest(const std::string& symbol, v1::Price* out) {
    grpc::ClientContext context;
    v1::GetLatestPriceRequest request;
    request.set_symbol(symbol);
    return prices_->GetLatestPrice(&context, request, out);
  }
  grpc::Status History(const std::string& symbol, v1::ListPriceHistoryResponse* out) {
    grpc::ClientContext context;
    v1::ListPriceHistoryRequest request;
    request.set_symbol(symbol);
    return prices_->ListPriceHistory(&context, request, out);
  }
  grpc::Status Snapshot(const std::string& symbol, v1::Snapshot* out) {
    grpc::ClientContext context;
    v1::GetSnapshotRequest request;
    request.add_symbols(symbol);
    return prices_->GetSnapshot(&context, request, out);
  }
  grpc::Status LatestAverage(const std::string& symbol, int window, v1::MovingAverage* out) {
    grpc::ClientContext context;
    v1::GetLatestMovingAverageRequest request;
    request.set_symbol(symbol);
    request.set_window(window);
    return averages_->GetLatestMovingAverage(&context, request, out);
  }
  grpc::Status Averages(const std::string& symbol, v1::ListMovingAveragesResponse* out) {
    grpc::ClientContext context;
    v1::ListMovingAveragesRequest request;
    request.set_symbol(symbol);
    request.set_window(2);
    return averages_->ListMovingAverages(&context, request, out);
  }
  grpc::Status Bars(const std::string& symbol, v1::ListBarsResponse* out) {
    grpc::ClientContext context;
    v1::ListBarsRequest request;
    request.set_symbol(symbol);
    request.set_interval("1m");
    return bars_->ListBars(&context, request, out);
  }

 private:
  ProviderRegistry registry_{"test"};
  PostgresPriceStore store_;
  FakePublisher publisher_;
  PriceRecorder recorder_{registry_, store_, publisher_};
  PostgresPriceStore history_;
  PostgresSnapshotStore snapshots_;
  PostgresMovingAverageStore average_reads_;
  PostgresBarStore bar_reads_;
  Authorizer auth_{nullptr, AuthOptions{}};  // keys not required
  PriceHub price_hub_;
  MovingAverageHub average_hub_;
  BarHub bar_hub_;
  PriceServiceImpl price_service_{recorder_, registry_, history_, snapshots_, price_hub_, auth_};
  MovingAverageServiceImpl average_service_{average_reads_, {2}, average_hub_, auth_};
  BarServiceImpl bar_service_{bar_reads_, {60}, bar_hub_, auth_};
  InProcessServer server_{{&price_service_, &average_service_, &bar_service_}};
  std::unique_ptr<v1::PriceService::Stub> prices_ = server_.NewStub<v1::PriceService>();
  std::unique_ptr<v1::MovingAverageService::Stub> averages_ =
      server_.NewStub<v1::MovingAverageService>();
  std::unique_ptr<v1::BarService::Stub> bars_ = server_.NewStub<v1::BarService>();
};

// The settings of a process on `scratch` with DATABASE_READ_URL=`read_url`.
DatabaseConfig Config(const ScratchDatabase& scratch, const std::string& read_url) {
  DatabaseConfig config;
  config.url = scratch.url();
  config.read_url = read_url;
  config.options.pool_size = 2;
  config.options.connect_timeout = absl::Seconds(2);  // libpq's least
  config.options.pool_wait = absl::Seconds(1);
  return config;
}

TEST(ReadPoolTest, HistorySnapshotsAveragesAndBarsAreReadThroughTheReadPool) {
  ScratchDatabase scratch;
  std::unique_ptr<Database> primary = scratch.ConnectMigrated(2);
  Seed(*primary);
  // Sessions that refuse every write, as a standby's do.
  DatabaseConfig config = Config(
      scratch, WithQuery(scratch.url(), "options=-c%20default_transaction_read_only%3Don"));
  absl::StatusOr<std::unique_ptr<Database>> read_pool = ConnectReadPool(config);
  ASSERT_TRUE(read_pool.ok()) << read_pool.status();
  ASSERT_NE(*read_pool, nullptr);
  Database& reads = **read_pool;
  {
    Database::Lease lease = MustAcquire(reads);
    absl::StatusOr<PgResult> shown = lease.Exec("SHOW default_transaction_read_only", "checking");
    ASSERT_TRUE(shown.ok()) << shown.status();
    EXPECT_EQ(shown->text(0, 0), "on");
  }
  // A write through the read pool is refused by the server (read_only_sql_transaction).
  absl::StatusOr<StoredPrice> refused = PostgresPriceStore(reads).SavePrice(Price("AAPL", At(5), 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(SqlStateOf(refused.status()), "25006") << refused.status();

  Services services(*primary, reads);
  v1::Price latest;
  grpc::Status status = services.Latest("AAPL", &latest);
  ASSERT_TRUE(status.ok()) << status.error_message();  // written through the primary

  v1::ListPriceHistoryResponse history;
  status = services.History("AAPL", &history);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(history.prices_size(), 4);  // the three seeded and the latest, newest first
  EXPECT_EQ(history.prices(0).price(), latest.price());
  EXPECT_EQ(history.prices(1).price(), 102);

  v1::Snapshot snapshot;
  status = services.Snapshot("AAPL", &snapshot);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(snapshot.symbols_size(), 1);
  EXPECT_EQ(snapshot.symbols(0).price().price(), latest.price());
  ASSERT_EQ(snapshot.symbols(0).averages_size(), 1);
  EXPECT_EQ(snapshot.symbols(0).averages(0).value(), 101.5);
  ASSERT_EQ(snapshot.symbols(0).bars_size(), 1);
  EXPECT_EQ(snapshot.symbols(0).bars(0).close(), 102);

  v1::MovingAverage average;
  status = services.LatestAverage("AAPL", 2, &average);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(average.value(), 101.5);
  // A window the consumer does not store is computed from the stored prices, read alike.
  status = services.LatestAverage("AAPL", 3, &average);
  ASSERT_TRUE(status.ok()) << status.error_message();

  v1::ListMovingAveragesResponse averages;
  status = services.Averages("AAPL", &averages);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(averages.moving_averages_size(), 2);
  EXPECT_EQ(averages.moving_averages(0).value(), 101.5);

  v1::ListBarsResponse bars;
  status = services.Bars("AAPL", &bars);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(bars.bars_size(), 1);
  EXPECT_EQ(bars.bars(0).close(), 102);
}

// Every read of the read pool fails UNAVAILABLE within `limit`, naming DATABASE_READ_URL but not
// its address (`shown`, as the log shows it) nor `password`; the latest price is still recorded
// through the primary.
void ExpectReadsUnavailable(Services& services, const std::string& shown,
                            const std::string& password, absl::Duration limit) {
  const std::string message =
      "database unavailable: cannot connect to the server of DATABASE_READ_URL";
  auto expect = [&](const char* call, const std::function<grpc::Status()>& run) {
    const absl::Time start = absl::Now();
    const grpc::Status status = run();
    const absl::Duration took = absl::Now() - start;
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << call << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(message), std::string::npos)
        << call << ": " << status.error_message();
    EXPECT_EQ(status.error_message().find(password), std::string::npos)
        << call << ": " << status.error_message();
    EXPECT_EQ(status.error_message().find(shown.substr(shown.find('@'))), std::string::npos)
        << call << ": " << status.error_message();
    EXPECT_LT(took, limit) << call;
  };
  v1::ListPriceHistoryResponse history;
  expect("ListPriceHistory", [&] { return services.History("AAPL", &history); });
  v1::Snapshot snapshot;
  expect("GetSnapshot", [&] { return services.Snapshot("AAPL", &snapshot); });
  v1::MovingAverage average;
  expect("GetLatestMovingAverage", [&] { return services.LatestAverage("AAPL", 2, &average); });
  v1::ListMovingAveragesResponse averages;
  expect("ListMovingAverages", [&] { return services.Averages("AAPL", &averages); });
  v1::ListBarsResponse bars;
  expect("ListBars", [&] { return services.Bars("AAPL", &bars); });

  v1::Price latest;
  grpc::Status status = services.Latest("AAPL", &latest);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(latest.symbol(), "AAPL");
}

TEST(ReadPoolTest, AReadServerThatRefusesConnectionsFailsTheReadsAtOnceAndNotTheRest) {
  ScratchDatabase scratch;
  std::unique_ptr<Database> primary = scratch.ConnectMigrated(2);
  Seed(*primary);
  const std::string password = "read-secret-7";
  // Port 1 on the loopback interface refuses connections.
  const std::string dead = WithPassword(WithHost(scratch.url(), "127.0.0.1:1"), password);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Database>> read_pool = ConnectReadPool(Config(scratch, dead));
  ASSERT_TRUE(read_pool.ok()) << read_pool.status();  // the process starts all the same
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  Services services(*primary, **read_pool);
  ExpectReadsUnavailable(services, RedactDatabaseUrl(dead), password, absl::Seconds(1));
  EXPECT_NE(RedactDatabaseUrl(dead).find(":***@127.0.0.1:1/"), std::string::npos);
}

// A listening socket nobody accepts on: connections complete, and no server ever answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(fd_, 64) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() {
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(ReadPoolTest, AReadServerThatNeverAnswersFailsTheReadsWithinTheConnectTimeout) {
  ScratchDatabase scratch;
  std::unique_ptr<Database> primary = scratch.ConnectMigrated(2);
  Seed(*primary);
  SilentServer silent;
  ASSERT_NE(silent.port(), 0);
  const std::string password = "read-secret-8";
  const std::string hung = WithPassword(
      WithHost(scratch.url(), absl::StrCat("127.0.0.1:", silent.port())), password);
  DatabaseConfig config = Config(scratch, hung);
  config.read_pool_size = 1;  // one session: the start tries it once, for the connect timeout
  absl::StatusOr<std::unique_ptr<Database>> read_pool = ConnectReadPool(config);
  ASSERT_TRUE(read_pool.ok()) << read_pool.status();
  Services services(*primary, **read_pool);
  // Each read waits for one connection attempt (2 s, libpq's least connect_timeout), no longer.
  ExpectReadsUnavailable(services, RedactDatabaseUrl(hung), password, absl::Seconds(4));
}

}  // namespace
}  // namespace marketdata
