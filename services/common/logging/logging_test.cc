#include "services/common/logging/logging.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "grpc/grpc.h"
#include "grpc/support/log.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/logging/request_context.h"
#include "spdlog/sinks/ostream_sink.h"

namespace marketdata {
namespace {

constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// The default logger writes into `out` with the service formatter, for one test.
class CapturedLog {
 public:
  explicit CapturedLog(LogFormat format, spdlog::level::level_enum level = spdlog::level::info) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out_);
    sink->set_formatter(NewLogFormatter(format, "mds-test"));
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_level(level);
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }
  nlohmann::json Line(size_t i) const {
    std::istringstream in(out_.str());
    std::string line;
    for (size_t k = 0; k <= i; ++k) std::getline(in, line);
    return nlohmann::json::parse(line);  // throws on invalid JSON
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(LoggingTest, JsonLineHasTheGatewayFieldNames) {
  CapturedLog log(LogFormat::kJson);
  spdlog::info("serving on {}", 50051);
  const nlohmann::json line = log.Line(0);
  EXPECT_EQ(line["msg"], "serving on 50051");
  EXPECT_EQ(line["level"], "INFO");
  EXPECT_EQ(line["service"], "mds-test");
  const std::string time = line["time"];
  // 2026-01-05T14:03:07.120Z
  ASSERT_EQ(time.size(), 24u) << time;
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time[19], '.');
  EXPECT_EQ(time.back(), 'Z');
  EXPECT_FALSE(line.contains("request_id"));
  EXPECT_FALSE(line.contains("trace_id"));
}

TEST(LoggingTest, LinesCarryTheThreadsRequestContext) {
  CapturedLog log(LogFormat::kJson);
  const RequestContext context = RequestContext::From("req-7", kTraceparent);
  {
    ScopedRequestContext scope(context);
    spdlog::warn("inside");
  }
  spdlog::info("outside");
  EXPECT_EQ(log.Line(0)["request_id"], "req-7");
  EXPECT_EQ(log.Line(0)["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(log.Line(0)["level"], "WARN");
  EXPECT_FALSE(log.Line(1).contains("request_id"));
}

TEST(LoggingTest, FieldsAreTyped) {
  CapturedLog log(LogFormat::kJson);
  LogWithFields(spdlog::level::info, "call",
                {LogField("method", "/a.B/C"), LogField("code", "OK"),
                 LogField("duration_ms", 0.412), LogField("offset", int64_t{42}),
                 LogField("nan", std::nan(""))});
  const nlohmann::json line = log.Line(0);
  EXPECT_EQ(line["msg"], "call");
  EXPECT_EQ(line["method"], "/a.B/C");
  EXPECT_DOUBLE_EQ(line["duration_ms"].get<double>(), 0.412);
  EXPECT_EQ(line["offset"].get<int64_t>(), 42);
  EXPECT_TRUE(line["nan"].is_null());
  // Fields belong to their own line only.
  spdlog::info("plain");
  EXPECT_FALSE(log.Line(1).contains("method"));
}

TEST(LoggingTest, FieldsBelowTheLevelCostNothingAndAreNotWritten) {
  CapturedLog log(LogFormat::kJson);
  LogWithFields(spdlog::level::debug, "hidden", {LogField("k", "v")});
  EXPECT_EQ(log.text(), "");
}

TEST(LoggingTest, EveryMessageIsValidJson) {
  CapturedLog log(LogFormat::kJson);
  const std::string nasty = std::string("quote \" backslash \\ newline \n tab \t nul ") +
                            std::string(1, '\0') + " bell \x07 bad utf8 \xff\xfe end \xe2\x82" +
                            " euro \xe2\x82\xac surrogate \xed\xa0\x80 overlong \xc0\xaf";
  spdlog::info("{}", nasty);
  LogWithFields(spdlog::level::info, "m", {LogField("k\"ey", nasty)});
  const nlohmann::json first = log.Line(0);
  const std::string msg = first["msg"];
  EXPECT_NE(msg.find("quote \" backslash \\ newline \n tab \t nul "), std::string::npos);
  EXPECT_NE(msg.find(std::string(1, '\0')), std::string::npos);
  EXPECT_NE(msg.find("euro \xe2\x82\xac"), std::string::npos);
  EXPECT_NE(msg.find("bad utf8 \xef\xbf\xbd\xef\xbf\xbd"), std::string::npos);
  EXPECT_EQ(log.Line(1)["k\"ey"], msg);
  // One line per event: the newline inside was escaped.
  const std::string text = log.text();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST(LoggingTest, TextFormatKeepsThePlainLine) {
  CapturedLog log(LogFormat::kText);
  const RequestContext context = RequestContext::From("req-8", kTraceparent);
  ScopedRequestContext scope(context);
  LogWithFields(spdlog::level::info, "call", {LogField("code", "OK")});
  const std::string text = log.text();
  EXPECT_NE(text.find("Z info mds-test: call code=OK request_id=req-8 "
                      "trace_id=4bf92f3577b34da6a3ce929d0e0e4736\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text[23], 'Z');
}

TEST(LoggingTest, SettingsParseAndRefuse) {
  auto load = [](std::map<std::string, std::string> values) {
    return LogSettingsTable().Load(Settings::FromMap(std::move(values)));
  };
  absl::StatusOr<LogSettings> defaults = load({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->format, LogFormat::kJson);
  EXPECT_EQ(defaults->level, spdlog::level::info);
  EXPECT_EQ(defaults->call_sample_rate, 1);
  absl::StatusOr<LogSettings> text =
      load({{"LOG_FORMAT", "text"}, {"LOG_LEVEL", "debug"}, {"LOG_CALL_SAMPLE_RATE", "0.25"}});
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->format, LogFormat::kText);
  EXPECT_EQ(text->level, spdlog::level::debug);
  EXPECT_EQ(text->call_sample_rate, 0.25);
  EXPECT_FALSE(load({{"LOG_FORMAT", "xml"}}).ok());
  EXPECT_FALSE(load({{"LOG_LEVEL", "loud"}}).ok());
  EXPECT_FALSE(load({{"LOG_CALL_SAMPLE_RATE", "2"}}).ok());
}

TEST(LoggingTest, GrpcCoreLinesAreJsonToo) {
  grpc_init();  // reads GRPC_VERBOSITY: ERROR by default
  ASSERT_TRUE(InitLogging("mds-test", LogSettings()).ok());
  CapturedLog log(LogFormat::kJson);
  const RequestContext unrelated = RequestContext::From("some-call", "");
  ScopedRequestContext scope(unrelated);  // what the thread served last
  gpr_log(GPR_ERROR, "connection %s reset", "ipv4:127.0.0.1:1");
  const nlohmann::json line = log.Line(0);
  EXPECT_EQ(line["msg"], "grpc: connection ipv4:127.0.0.1:1 reset");
  EXPECT_EQ(line["level"], "ERROR");
  EXPECT_NE(line["source"].get<std::string>().find("logging_test.cc:"), std::string::npos);
  EXPECT_FALSE(line.contains("request_id"));
  grpc_shutdown();
}

TEST(LoggingTest, SamplingFollowsTheRequestId) {
  int kept = 0;
  for (int i = 0; i < 10000; ++i) {
    const RequestContext c = RequestContext::From("id-" + std::to_string(i), "");
    const bool first = SampledForLog(c, 0.1);
    EXPECT_EQ(first, SampledForLog(c, 0.1));  // the same answer in every process
    if (first) ++kept;
    EXPECT_TRUE(SampledForLog(c, 1));
    EXPECT_FALSE(SampledForLog(c, 0));
  }
  EXPECT_GT(kept, 800);
  EXPECT_LT(kept, 1200);
}

// What a call line costs to format and write (into memory here; the service's sink appends to
// a buffer the same way and writes it out every 100 ms).
TEST(LoggingTest, CostOfACallLine) {
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*new std::ostringstream);
  sink->set_formatter(NewLogFormatter(LogFormat::kJson, "mds-api"));
  auto logger = std::make_shared<spdlog::logger>("bench", sink);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  const RequestContext context = RequestContext::From("0123456789abcdef", kTraceparent);
  ScopedRequestContext scope(context);
  constexpr int kLines = 200000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kLines; ++i) {
    LogWithFields(spdlog::level::info, "call",
                  {LogField("method", "/marketdata.v1.PriceService/GetLatestPrice"),
                   LogField("code", "OK"), LogField("duration_ms", 0.412)});
  }
  const double us = std::chrono::duration<double, std::micro>(
                        std::chrono::steady_clock::now() - start).count() / kLines;
  spdlog::set_default_logger(previous);
  std::printf("one JSON call line: %.3f us\n", us);
  EXPECT_LT(us, 20.0);
}

}  // namespace
}  // namespace marketdata
