#include "services/streaming/stream_hub.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/marketdata/v1/moving_average.grpc.pb.h"
#include "services/common/testing/wait_for.h"

namespace marketdata {
namespace {

using ::marketdata::v1::MovingAverage;
using ::marketdata::v1::MovingAverageService;
using ::marketdata::v1::StreamMovingAveragesRequest;

// What the moving-average service does with the hub: the request's symbols, and its window if set.
class MovingAverageStreams final : public MovingAverageService::CallbackService {
 public:
  explicit MovingAverageStreams(StreamHub<MovingAverage>& hub) : hub_(hub) {}

  grpc::ServerWriteReactor<MovingAverage>* StreamMovingAverages(
      grpc::CallbackServerContext* ctx, const StreamMovingAveragesRequest* request) override {
    std::function<bool(const MovingAverage&)> filter;
    if (request->window() != 0) {
      filter = [window = request->window()](const MovingAverage& m) {
        return m.window() == window;
      };
    }
    return hub_.Subscribe(ctx, {request->symbols().begin(), request->symbols().end()},
                          std::move(filter));
  }

 private:
  StreamHub<MovingAverage>& hub_;
};

// An in-process server on a free loopback port, and a real generated client for it.
class TestServer {
 public:
  explicit TestServer(StreamHub<MovingAverage>& hub) : service_(hub) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  // The deadline cancels whatever a failed test left open instead of hanging.
  ~TestServer() { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5)); }

  bool started() const { return server_ != nullptr && port_ > 0; }
  void Shutdown() { server_->Shutdown(); }

  struct Stream {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<MovingAverage>> reader;
  };

  // Flow control on this channel is left at its initial window so a large message stays in
  // flight until the client reads it.
  std::unique_ptr<Stream> Open(std::vector<std::string> symbols, int window = 0) {
    if (stub_ == nullptr) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
      args.SetMaxReceiveMessageSize(-1);
      stub_ = MovingAverageService::NewStub(grpc::CreateCustomChannel(
          absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials(), args));
    }
    StreamMovingAveragesRequest request;
    for (std::string& symbol : symbols) request.add_symbols(std::move(symbol));
    request.set_window(window);
    auto stream = std::make_unique<Stream>();
    stream->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    stream->reader = stub_->StreamMovingAverages(&stream->context, request);
    return stream;
  }

 private:
  MovingAverageStreams service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MovingAverageService::Stub> stub_;
};

MovingAverage Average(const std::string& symbol, int window, double value) {
  MovingAverage average;
  average.set_symbol(symbol);
  average.set_window(window);
  average.set_value(value);
  return average;
}

void Publish(StreamHub<MovingAverage>& hub, const MovingAverage& average) {
  hub.Publish(average.symbol(), absl::StrCat(average.symbol(), "/", average.window()), average);
}

// The hub has no change notification, so poll; the deadline turns a hang into a failure.
bool WaitForSubscribers(const StreamHub<MovingAverage>& hub, size_t count) {
  return WaitFor([&] { return hub.subscriber_count() == count; }, absl::Seconds(10),
                 absl::Milliseconds(1));
}

TEST(StreamHubTest, DeliversOnlyTheSymbolsAsked) {
  StreamHub<MovingAverage> hub;
  TestServer server(hub);
  ASSERT_TRUE(server.started());
  auto stream = server.Open({"AAPL"});
  ASSERT_TRUE(WaitForSubscribers(hub, 1));

  Publish(hub, Average("MSFT", 20, 1.0));
  Publish(hub, Average("AAPL", 20, 2.0));
  MovingAverage received;
  ASSERT_TRUE(stream->reader->Read(&received));
  EXPECT_EQ(received.symbol(), "AAPL");
  EXPECT_EQ(received.value(), 2.0);

  Publish(hub, Average("MSFT", 20, 3.0));
  Publish(hub, Average("AAPL", 20, 4.0));
  ASSERT_TRUE(stream->reader->Read(&received));
  EXPECT_EQ(received.symbol(), "AAPL");
  EXPECT_EQ(received.value(), 4.0);
}

TEST(StreamHubTest, EveryStreamReceives) {
  StreamHub<MovingAverage> hub;
  TestServer server(hub);
  ASSERT_TRUE(server.started());
  auto first = server.Open({"AAPL"});
  auto second = server.Open({"MSFT", "AAPL"});
  ASSERT_TRUE(WaitForSubscribers(hub, 2));

  Publish(hub, Average("AAPL", 5, 10.0));
  for (auto* stream : {first.get(), second.get()}) {
    MovingAverage received;
    ASSERT_TRUE(stream->reader->Read(&received));
    EXPECT_EQ(received.symbol(), "AAPL");
    EXPECT_EQ(received.value(), 10.0);
  }
}

TEST(StreamHubTest, NoSymbolsMeansEverySymbol) {
  StreamHub<MovingAverage> hub;
  TestServer server(hub);
  ASSERT_TRUE(server.started());
  auto stream = server.Open({});
  ASSERT_TRUE(WaitForSubscribers(hub, 1));

  Publish(hub, Average("AAPL", 5, 1.0));
  Publish(hub, Average("MSFT", 20, 2.0));
  Publish(hub, Average("TSLA", 5, 3.0));
  std::set<std::string> symbols;
  for (int i = 0; i < 3; ++i) {
    MovingAverage received;
    ASSERT_TRUE(stream->reader->Read(&received));
    symbols.insert(received.symbol());
  }
  EXPECT_EQ(symbols, (std::set<std::string>{"AAPL", "MSFT", "TSLA"}));
}

TEST(StreamHubTest, ExtraFilterSelectsTheWindow) {
  StreamHub<MovingAverage> hub;
  TestServer server(hub);
  ASSERT_TRUE(server.started());
  auto stream = server.Open({"AAPL"}, 20);
  ASSERT_TRUE(WaitForSubscribers(hub, 1));

  Publish(hub, Average("AAPL", 5, 1.0));
  Publish(hub, Average("AAPL", 20, 2.0));
  MovingAverage received;
  ASSERT_TRUE(stream->reader->Read(&received));
  EXPECT_EQ(received.window(), 20);
  EXPECT_EQ(received.value(), 2.0);
}

TEST(StreamHubTest, SlowReaderGetsTheNewestValueOfAKey) {
  StreamHub<MovingAverage> hub;
  TestServer server(hub);
  ASSERT_TRUE(server.started());
  auto stream = server.Open({"AAPL"});
  ASSERT_TRUE(WaitForSubscribers(hub, 1));

  constexpr int kUpdates = 10000;
  for (int i = 0; i < kUpdates; ++i) Publish(hub, Average("AAPL", 20, i));
  // Only now does the client read.
  int reads = 0;
  MovingAverage received;
  do {
    ASSERT_TRUE(stream->reader->Read(&received));
    ++reads;
  } while (received.value() != kUpdates - 1);

  EXPECT_LT(reads, kUpdates);
  EXPECT_GT(hub.conflated_count(), 0u);
  // Every update was either written or replaced by a newer one; none dropped.
  EXPECT_TRUE(WaitFor([&] { return hub.delivered_count() + hub.conflated_count() == kUpdates; },
                      absl::Seconds(10), absl::Milliseconds(1)))
      << hub.delivered_count() << " delivered, " << hub.conflated_count() << " conflated";
  EXPECT_EQ(hub.dropped_count(), 0u);
}

TEST(StreamHubTest, BlockedStreamKeepsAtMostMaxPendingKeys) {
  StreamHub<MovingAverage> hub(StreamHub<MovingAverage>::kDefaultMaxStreams, /*max_pending=*/3);
  TestServer server(hub);
  ASSERT_TRUE(server.started());
  auto stream = server.Open({"AAPL"});
  ASSERT_TRUE(WaitForSubscribers(hub, 1));

  // Larger than the client's flow-control window: its write cannot complete before the client
  // reads, so everything after it has to wait in the pending map.
  MovingAverage large = Average("AAPL", 1, -1.0);
  large.set_symbol(std::string(4 << 20, 'A'));
  hub.Publish("AAPL", "large", large);
  for (int window = 1; window <= 10; ++window) {
    Publish(hub, Average("AAPL", window, window));
    Publish(hub, Average("AAPL", window, window * 100));
  }
  // Each key's second update replaced its first; then the seven oldest keys made way.
  EXPECT_EQ(hub.conflated_count(), 10u);
  EXPECT_EQ(hub.dropped_count(), 7u);

  MovingAverage received;
  ASSERT_TRUE(stream->reader->Read(&received));
  EXPECT_EQ(received.value(), -1.0);
  for (int window = 8; window <= 10; ++window) {
    ASSERT_TRUE(stream->reader->Read(&received));
    EXPECT_EQ(received.window(), window);
    EXPECT_EQ(received.value(), window * 100);
  }
}

TEST(StreamHubTest, CancelledStreamIsUnregistered) {
  StreamHub<MovingAverage> hub;
  TestServer server(hub);
  ASSERT_TRUE(server.started());
  auto stream = server.Open({"AAPL"});
  ASSERT_TRUE(WaitForSubscribers(hub, 1));

  stream->context.TryCancel();
  EXPECT_TRUE(WaitForSubscribers(hub, 0));
  EXPECT_EQ(stream->reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  Publish(hub, Average("AAPL", 20, 1.0));  // nobody left to deliver to
}

TEST(StreamHubTest, CancelledBlockedStreamIsUnregistered) {
  StreamHub<MovingAverage> hub;
  TestServer server(hub);
  ASSERT_TRUE(server.started());
  auto stream = server.Open({"AAPL"});
  ASSERT_TRUE(WaitForSubscribers(hub, 1));
  MovingAverage large = Average("AAPL", 1, -1.0);
  large.set_symbol(std::string(4 << 20, 'A'));
  hub.Publish("AAPL", "large", large);
  Publish(hub, Average("AAPL", 20, 1.0));

  stream->context.TryCancel();
  EXPECT_TRUE(WaitForSubscribers(hub, 0));
}

TEST(StreamHubTest, StreamsComeAndGoWhilePublishing) {
  StreamHub<MovingAverage> hub(StreamHub<MovingAverage>::kDefaultMaxStreams, /*max_pending=*/4);
  TestServer server(hub);
  ASSERT_TRUE(server.started());
  std::atomic<bool> publishing{true};
  std::thread publisher([&] {
    for (int i = 0; publishing.load(); ++i) {
      Publish(hub, Average(i % 2 == 0 ? "AAPL" : "MSFT", 1 + i % 8, i));
    }
  });

  for (int round = 0; round < 20; ++round) {
    auto reading = server.Open({"AAPL"});
    auto idle = server.Open({});
    ASSERT_TRUE(WaitForSubscribers(hub, 2));
    MovingAverage received;
    ASSERT_TRUE(reading->reader->Read(&received));
    EXPECT_EQ(received.symbol(), "AAPL");
    reading->context.TryCancel();
    idle->context.TryCancel();
    ASSERT_TRUE(WaitForSubscribers(hub, 0));
  }
  auto last = server.Open({});
  ASSERT_TRUE(WaitForSubscribers(hub, 1));
  hub.Shutdown();  // races with the publisher on purpose
  publishing = false;
  publisher.join();
  EXPECT_TRUE(WaitForSubscribers(hub, 0));
}

TEST(StreamHubTest, ShutdownEndsOpenStreams) {
  StreamHub<MovingAverage> hub;
  TestServer server(hub);
  ASSERT_TRUE(server.started());
  auto stream = server.Open({"AAPL"});
  ASSERT_TRUE(WaitForSubscribers(hub, 1));

  hub.Shutdown();
  MovingAverage received;
  EXPECT_FALSE(stream->reader->Read(&received));
  EXPECT_EQ(stream->reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);

  absl::Notification stopped;
  std::thread stopper([&] {
    server.Shutdown();
    stopped.Notify();
  });
  const bool stopped_in_time = stopped.WaitForNotificationWithTimeout(absl::Seconds(10));
  if (!stopped_in_time) stream->context.TryCancel();  // let the stopper return either way
  stopper.join();
  EXPECT_TRUE(stopped_in_time);
  EXPECT_TRUE(WaitForSubscribers(hub, 0));
}

TEST(StreamHubTest, RefusesStreamsAfterShutdown) {
  StreamHub<MovingAverage> hub;
  TestServer server(hub);
  ASSERT_TRUE(server.started());
  hub.Shutdown();

  auto stream = server.Open({"AAPL"});
  MovingAverage received;
  EXPECT_FALSE(stream->reader->Read(&received));
  EXPECT_EQ(stream->reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(hub.subscriber_count(), 0u);
}

TEST(StreamHubTest, RefusesStreamsBeyondTheCapUntilOneCloses) {
  StreamHub<MovingAverage> hub(/*max_streams=*/2);
  TestServer server(hub);
  ASSERT_TRUE(server.started());
  auto first = server.Open({"AAPL"});
  auto second = server.Open({"MSFT"});
  ASSERT_TRUE(WaitForSubscribers(hub, 2));

  auto third = server.Open({"IBM"});
  MovingAverage received;
  EXPECT_FALSE(third->reader->Read(&received));
  grpc::Status refused = third->reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(), "too many open streams (2); retry later");
  EXPECT_EQ(hub.subscriber_count(), 2u);

  first->context.TryCancel();
  ASSERT_TRUE(WaitForSubscribers(hub, 1));
  auto fourth = server.Open({"IBM"});
  ASSERT_TRUE(WaitForSubscribers(hub, 2));
  Publish(hub, Average("IBM", 5, 1.5));
  ASSERT_TRUE(fourth->reader->Read(&received));
  EXPECT_EQ(received.symbol(), "IBM");
}

TEST(StreamHubTest, StreamsMayOutliveTheHub) {
  auto hub = std::make_unique<StreamHub<MovingAverage>>();
  TestServer server(*hub);
  ASSERT_TRUE(server.started());
  auto stream = server.Open({"AAPL"});
  ASSERT_TRUE(WaitForSubscribers(*hub, 1));

  hub.reset();  // finishes the stream; its reactor is deleted later, on a gRPC thread
  MovingAverage received;
  EXPECT_FALSE(stream->reader->Read(&received));
  EXPECT_EQ(stream->reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace marketdata
