// MovingAverageServiceImpl in an in-process gRPC server, called through the generated client,
// over an in-memory store, with keys required: stored and computed averages, the list's query,
// the live stream, and what a client is refused.
#include "services/consumer/moving_average_service.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "services/auth/keyed_authorizer.h"
#include "services/common/testing/in_process_server.h"

namespace marketdata {
namespace {

const absl::Time kAt = absl::FromUnixSeconds(1700000000);

// Averages and prices kept in maps; List answers its page and remembers the query.
class FakeAverages final : public MovingAverageStore {
 public:
  absl::StatusOr<std::vector<Neighbours>> LoadNeighbours(const std::vector<PointRef>&,
                                                         size_t) override {
    return absl::UnimplementedError("the service does not compute windows");
  }
  absl::Status SaveAverages(const std::vector<AverageRow>&) override {
    return absl::UnimplementedError("the service does not write");
  }
  absl::StatusOr<std::optional<AverageRow>> Latest(const std::string& symbol,
                                                   int window) override {
    absl::MutexLock lock(&mu_);
    auto it = latest_.find({symbol, window});
    if (it == latest_.end()) return std::optional<AverageRow>();
    return std::optional<AverageRow>(it->second);
  }
  absl::StatusOr<AveragePage> List(const AverageQuery& query) override {
    absl::MutexLock lock(&mu_);
    last_query_ = query;
    return page_;
  }
  absl::StatusOr<std::vector<PricePoint>> RecentPrices(const std::string& symbol,
                                                       int limit) override {
    absl::MutexLock lock(&mu_);
    std::vector<PricePoint> prices = prices_[symbol];
    if (static_cast<int>(prices.size()) > limit) prices.resize(limit);
    return prices;
  }

  void PutLatest(const AverageRow& row) {
    absl::MutexLock lock(&mu_);
    latest_[{row.symbol, row.window}] = row;
  }
  // `newest_first`: the symbol's stored prices, newest first.
  void PutPrices(const std::string& symbol, std::vector<PricePoint> newest_first) {
    absl::MutexLock lock(&mu_);
    prices_[symbol] = std::move(newest_first);
  }
  void SetPage(AveragePage page) {
    absl::MutexLock lock(&mu_);
    page_ = std::move(page);
  }
  AverageQuery last_query() const {
    absl::MutexLock lock(&mu_);
    return last_query_;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, int>, AverageRow> latest_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<PricePoint>> prices_ ABSL_GUARDED_BY(mu_);
  AveragePage page_ ABSL_GUARDED_BY(mu_);
  AverageQuery last_query_ ABSL_GUARDED_BY(mu_);
};

class MovingAverageServiceTest : public ::testing::Test {
 protected:
  // Open streams end before the server shuts down.
  void TearDown() override { hub_.Shutdown(); }

  grpc::Status Latest(const std::string& symbol, int window, v1::MovingAverage* out,
                      const std::string& key) {
    grpc::ClientContext context;
    SendKey(context, key);
    v1::GetLatestMovingAverageRequest request;
    request.set_symbol(symbol);
    request.set_window(window);
    return stub_->GetLatestMovingAverage(&context, request, out);
  }
  grpc::Status List(const v1::ListMovingAveragesRequest& request,
                    v1::ListMovingAveragesResponse* out, const std::string& key) {
    grpc::ClientContext context;
    SendKey(context, key);
    return stub_->ListMovingAverages(&context, request, out);
  }
  v1::ListMovingAveragesRequest ListOf(const std::string& symbol, int window) {
    v1::ListMovingAveragesRequest request;
    request.set_symbol(symbol);
    request.set_window(window);
    return request;
  }

  FakeAverages store_;
  MovingAverageHub hub_;
  KeyedAuthorizer keys_;
  MovingAverageServiceImpl service_{store_, {5, 20}, hub_, keys_.auth()};
  InProcessServer server_{{&service_}};
  std::unique_ptr<v1::MovingAverageService::Stub> stub_ =
      server_.NewStub<v1::MovingAverageService>();
  const std::string reader_ = keys_.AddKey("reader", "read");
};

TEST_F(MovingAverageServiceTest, LatestOfAStoredWindowIsTheStoredAverage) {
  store_.PutLatest(AverageRow{"AAPL", 5, 181.25, kAt, 42});
  v1::MovingAverage average;
  const grpc::Status status = Latest(" aapl", 0, &average, reader_);  // 0: the default, 5
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(average.symbol(), "AAPL");
  EXPECT_EQ(average.window(), 5);
  EXPECT_EQ(average.value(), 181.25);
  EXPECT_EQ(average.timestamp().seconds(), 1700000000);
}

TEST_F(MovingAverageServiceTest, LatestOfAnyOtherWindowIsComputedFromStoredPrices) {
  // Newest first: 50 now, 40 a minute before, ... 10 four minutes before.
  std::vector<PricePoint> prices;
  for (int i = 5; i >= 1; --i) prices.push_back({i, kAt - absl::Minutes(5 - i), 10.0 * i});
  store_.PutPrices("MSFT", prices);
  v1::MovingAverage average;
  ASSERT_TRUE(Latest("MSFT", 3, &average, reader_).ok());
  EXPECT_EQ(average.symbol(), "MSFT");
  EXPECT_EQ(average.window(), 3);
  EXPECT_DOUBLE_EQ(average.value(), 40);  // the newest three: 50, 40, 30
  EXPECT_EQ(average.timestamp().seconds(), 1700000000);  // of the newest price
  // A stored window the consumer has not reached yet is computed the same way.
  ASSERT_TRUE(Latest("MSFT", 5, &average, reader_).ok());
  EXPECT_EQ(average.window(), 5);
  EXPECT_DOUBLE_EQ(average.value(), 30);
}

TEST_F(MovingAverageServiceTest, TooFewPricesIsNotFoundSayingHowMany) {
  store_.PutPrices("MSFT", {{2, kAt, 20}, {1, kAt - absl::Minutes(1), 10}});
  v1::MovingAverage average;
  const grpc::Status status = Latest("MSFT", 3, &average, reader_);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(),
            "not enough data: 2 prices stored for MSFT, a moving average over 3 needs 3");
  const grpc::Status none = Latest("TSLA", 5, &average, reader_);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(none.error_message(),
            "not enough data: 0 prices stored for TSLA, a moving average over 5 needs 5");
}

TEST_F(MovingAverageServiceTest, ListPassesTheCheckedQueryOnAndReturnsThePage) {
  AveragePage page;
  page.averages = {AverageRow{"AAPL", 20, 180.5, kAt, 9},
                   AverageRow{"AAPL", 20, 179.5, kAt - absl::Minutes(1), 8}};
  page.next_page_token = "1699999940000000.8";
  store_.SetPage(page);
  v1::ListMovingAveragesRequest request = ListOf("aapl", 20);
  request.mutable_start_time()->set_seconds(1600000000);
  request.mutable_end_time()->set_seconds(1700000001);
  request.set_limit(2);
  request.set_page_token("1700000060000000.10");
  v1::ListMovingAveragesResponse response;
  const grpc::Status status = List(request, &response, reader_);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const AverageQuery query = store_.last_query();
  EXPECT_EQ(query.symbol, "AAPL");
  EXPECT_EQ(query.window, 20);
  EXPECT_EQ(query.start, absl::FromUnixSeconds(1600000000));
  EXPECT_EQ(query.end, absl::FromUnixSeconds(1700000001));
  EXPECT_EQ(query.limit, 2);
  EXPECT_EQ(query.page_token, "1700000060000000.10");
  ASSERT_EQ(response.moving_averages_size(), 2);
  EXPECT_EQ(response.moving_averages(0).value(), 180.5);
  EXPECT_EQ(response.moving_averages(1).timestamp().seconds(), 1700000000 - 60);
  EXPECT_EQ(response.next_page_token(), "1699999940000000.8");
  // Unset: the default window and limit.
  ASSERT_TRUE(List(ListOf("AAPL", 0), &response, reader_).ok());
  EXPECT_EQ(store_.last_query().window, 5);
  EXPECT_EQ(store_.last_query().limit, 100);
  EXPECT_FALSE(store_.last_query().start.has_value());
}

TEST_F(MovingAverageServiceTest, BadRequestsAreInvalidArgumentWithTheirMessage) {
  v1::MovingAverage average;
  const grpc::Status symbol = Latest("AA PL", 5, &average, reader_);
  EXPECT_EQ(symbol.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(symbol.error_message().rfind("invalid symbol \"AA PL\"", 0), 0u)
      << symbol.error_message();
  const grpc::Status missing = Latest("", 5, &average, reader_);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(missing.error_message(), "symbol is required");
  for (int window : {-1, 10001}) {
    const grpc::Status status = Latest("AAPL", window, &average, reader_);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(),
              "window must be between 1 and 10000, got " + std::to_string(window));
  }

  auto refused = [&](const v1::ListMovingAveragesRequest& request) {
    v1::ListMovingAveragesResponse response;
    const grpc::Status status = List(request, &response, reader_);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    return status.error_message();
  };
  EXPECT_EQ(refused(ListOf("AAPL", 3)),
            "window 3 is not stored; stored windows: 5, 20 (GET the latest average for any "
            "window instead)");
  v1::ListMovingAveragesRequest reversed = ListOf("AAPL", 5);
  reversed.mutable_start_time()->set_seconds(200);
  reversed.mutable_end_time()->set_seconds(100);
  EXPECT_EQ(refused(reversed), "start_time must not be after end_time");
  v1::ListMovingAveragesRequest bad_token = ListOf("AAPL", 5);
  bad_token.set_page_token("-1.5");
  EXPECT_EQ(refused(bad_token), "invalid page_token");
  v1::ListMovingAveragesRequest too_many = ListOf("AAPL", 5);
  too_many.set_limit(1001);
  EXPECT_EQ(refused(too_many), "limit must be between 1 and 1000 (0 means 100)");
}

TEST_F(MovingAverageServiceTest, EveryCallNeedsTheReadScope) {
  store_.PutLatest(AverageRow{"AAPL", 5, 181.25, kAt, 42});
  v1::MovingAverage average;
  EXPECT_EQ(Latest("AAPL", 5, &average, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const std::string writer = keys_.AddKey("writer", "write");
  const grpc::Status denied = Latest("AAPL", 5, &average, writer);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.error_message(), "API key writer lacks the \"read\" scope this call needs");
  v1::ListMovingAveragesResponse response;
  EXPECT_EQ(List(ListOf("AAPL", 5), &response, "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(List(ListOf("AAPL", 5), &response, writer).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext context;
  auto reader = stub_->StreamMovingAverages(&context, {});
  v1::MovingAverage streamed;
  EXPECT_FALSE(reader->Read(&streamed));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(MovingAverageServiceTest, StreamsCommittedAveragesOfTheSymbolsAndWindowAsked) {
  grpc::ClientContext context;
  SendKey(context, reader_);
  v1::StreamMovingAveragesRequest request;
  request.add_symbols("aapl");
  request.set_window(20);
  auto reader = stub_->StreamMovingAverages(&context, request);
  reader->WaitForInitialMetadata();  // subscribed once the headers arrive
  PublishAverages(hub_, {AverageRow{"MSFT", 20, 420, kAt, 1},    // another symbol
                         AverageRow{"AAPL", 5, 180, kAt, 2},     // another window
                         AverageRow{"AAPL", 20, 181.5, kAt, 2}});
  v1::MovingAverage average;
  ASSERT_TRUE(reader->Read(&average));
  EXPECT_EQ(average.symbol(), "AAPL");
  EXPECT_EQ(average.window(), 20);
  EXPECT_EQ(average.value(), 181.5);
  context.TryCancel();
}

TEST_F(MovingAverageServiceTest, AStreamOfAWindowNotComputedLiveIsRefused) {
  grpc::ClientContext context;
  SendKey(context, reader_);
  v1::StreamMovingAveragesRequest request;
  request.add_symbols("AAPL");
  request.set_window(3);
  auto reader = stub_->StreamMovingAverages(&context, request);
  v1::MovingAverage average;
  EXPECT_FALSE(reader->Read(&average));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "window 3 is not computed live; live windows: 5, 20");
}

}  // namespace
}  // namespace marketdata
