#include "services/domain/symbol.h"

#include "gtest/gtest.h"
#include "services/common/errors.h"

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
  auto result = NormalizeSymbols({"msft,aapl", "MSFT", "googl"});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, (std::vector<std::string>{"MSFT", "AAPL", "GOOGL"}));
  EXPECT_FALSE(NormalizeSymbols({"AAPL,,MSFT"}).ok());
  EXPECT_FALSE(NormalizeSymbols({"AAPL", "bad symbol"}).ok());
}

}  // namespace
}  // namespace marketdata
