#include "services/domain/symbol.h"

#include "gtest/gtest.h"
#include "services/common/grpc/errors.h"

namespace marketdata {
namespace {

TEST(SymbolTest, UpperCasesAndTrims) {
  EXPECT_EQ(*NormalizeSymbol(" aapl "), "AAPL");
  EXPECT_EQ(*NormalizeSymbol("brk.b"), "BRK.B");
  EXPECT_EQ(*NormalizeSymbol("^gspc"), "^GSPC");
  EXPECT_EQ(*NormalizeSymbol("eurusd=x"), "EURUSD=X");
  EXPECT_EQ(*NormalizeSymbol("btc-usd"), "BTC-USD");
}

TEST(SymbolTest, EmptyIsMissing) {
  auto result = NormalizeSymbol("  ");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(ReasonOf(result.status()), kReasonMissingField);
}

TEST(SymbolTest, RejectsBadCharactersAndLength) {
  for (const char* bad : {"AA PL", "AAPL;DROP", "-AAPL", "A/B", "ÄPFEL", "ABCDEFGHIJKLMNOP",
                          "AA\nPL", "'AAPL'"}) {
    auto result = NormalizeSymbol(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(result.status()), std::nullopt) << bad;
    EXPECT_NE(result.status().message().find("invalid symbol"), absl::string_view::npos);
  }
}

TEST(SymbolTest, ListsAreSplitAndDeduplicatedInOrder) {
  auto result = NormalizeSymbols({"msft,aapl", "MSFT", "googl"}, 10);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, (std::vector<std::string>{"MSFT", "AAPL", "GOOGL"}));
  EXPECT_FALSE(NormalizeSymbols({"AAPL,,MSFT"}, 10).ok());
  EXPECT_FALSE(NormalizeSymbols({"AAPL", "bad symbol"}, 10).ok());
}

TEST(NormalizeSymbolsTest, TooManyDistinctSymbolsAreRefusedByCount) {
  // Duplicates do not count; the 51st distinct symbol does.
  std::vector<std::string> raw(200, "AAPL");
  for (int i = 0; i < 49; ++i) raw.push_back("S" + std::to_string(i));  // 50 with AAPL
  EXPECT_TRUE(NormalizeSymbols(raw, 50).ok());
  raw.push_back("ONEMORE");
  auto refused = NormalizeSymbols(raw, 50, "symbols");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "symbols: at most 50 symbols");
  // 40,000 distinct symbols: refused at the 51st (linear in the input read so far).
  std::vector<std::string> many;
  for (int i = 0; i < 40000; ++i) many.push_back("X" + std::to_string(i));
  EXPECT_FALSE(NormalizeSymbols(many, 50).ok());
}

}  // namespace
}  // namespace marketdata
