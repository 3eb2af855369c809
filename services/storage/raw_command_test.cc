#include "services/storage/raw_command.h"

#include <sstream>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(RawCommandTest, PrintsEachReplyAsAJsonLine) {
  const LoadRawRepliesFn load = [](int64_t id) -> absl::StatusOr<std::vector<RawReply>> {
    if (id == 9) return absl::NotFoundError("no raw replies 9");
    return std::vector<RawReply>{
        {"AAPL", "finnhub", absl::FromUnixSeconds(1767225600), R"({"c":261.74})"},
        {"MSFT", "test", absl::FromUnixSeconds(1767225601), "not json"}};
  };
  std::ostringstream out, err;
  EXPECT_EQ(RunRawCommand({"7", "9"}, load, out, err), 1);
  EXPECT_EQ(out.str(),
            R"({"provider":"finnhub","quote_time":"2026-01-01T00:00:00Z","raw_id":7,"reply":{"c":261.74},"symbol":"AAPL"})"
            "\n"
            R"({"provider":"test","quote_time":"2026-01-01T00:00:01Z","raw_id":7,"reply":"not json","symbol":"MSFT"})"
            "\n");
  EXPECT_NE(err.str().find("9: no raw replies 9"), std::string::npos) << err.str();
}

TEST(RawCommandTest, RefusesWhatIsNotAnId) {
  std::ostringstream out, err;
  const LoadRawRepliesFn never = [](int64_t) -> absl::StatusOr<std::vector<RawReply>> {
    ADD_FAILURE() << "loaded";
    return std::vector<RawReply>{};
  };
  EXPECT_EQ(RunRawCommand({"x1"}, never, out, err), 2);
  EXPECT_EQ(RunRawCommand({}, never, out, err), 2);
  EXPECT_EQ(RunRawCommand({"--help"}, never, out, err), 0);
  EXPECT_NE(out.str().find("usage: raw ID"), std::string::npos);
}

}  // namespace
}  // namespace marketdata
