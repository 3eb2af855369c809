#include "services/common/metrics/process_metrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

// A real line of /proc/<pid>/stat, with a command name holding spaces and parentheses.
constexpr char kStat[] =
    "4242 (mds (api) x) S 1 4242 4242 0 -1 4194560 12000 0 0 0 250 130 0 0 20 0 9 0 "
    "100000 1048576000 51200 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";

TEST(ProcessMetricsTest, ParsesStatFieldsCountedFromTheCommandsEnd) {
  ProcessStats stats;
  ASSERT_TRUE(ParseProcStat(kStat, 100, 4096, 1700000000, &stats).ok());
  EXPECT_DOUBLE_EQ(stats.cpu_seconds, 3.8);            // (250 + 130) ticks at 100/s
  EXPECT_DOUBLE_EQ(stats.start_time_seconds, 1700001000);  // boot + 100000 ticks
  EXPECT_DOUBLE_EQ(stats.virtual_bytes, 1048576000);
  EXPECT_DOUBLE_EQ(stats.resident_bytes, 51200.0 * 4096);
}

TEST(ProcessMetricsTest, MalformedStatIsAnError) {
  ProcessStats stats;
  EXPECT_FALSE(ParseProcStat("4242 mds-api S 1", 100, 4096, 0, &stats).ok());
  EXPECT_FALSE(ParseProcStat("4242 (mds-api) S 1 2 3", 100, 4096, 0, &stats).ok());
}

TEST(ProcessMetricsTest, BootTimeFromProcStat) {
  EXPECT_EQ(*ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1764547200\nprocesses 10\n"), 1764547200);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n").ok());
}

TEST(ProcessMetricsTest, ReadsThisProcess) {
  absl::StatusOr<ProcessStats> before = ReadProcessStats();
  ASSERT_TRUE(before.ok()) << before.status();
  const int fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  absl::StatusOr<ProcessStats> after = ReadProcessStats();
  close(fd);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->open_fds, before->open_fds + 1);
  EXPECT_GT(after->max_fds, after->open_fds);
  EXPECT_GT(after->resident_bytes, 1 << 20);
  EXPECT_GE(after->virtual_bytes, after->resident_bytes);
  EXPECT_GE(after->cpu_seconds, 0);
  const double now = static_cast<double>(time(nullptr));
  EXPECT_LE(after->start_time_seconds, now + 1);
  EXPECT_GT(after->start_time_seconds, now - 3600);
}

TEST(ProcessMetricsTest, MissingProcIsAnError) {
  EXPECT_FALSE(ReadProcessStats("/no/such/proc").ok());
}

}  // namespace
}  // namespace marketdata
