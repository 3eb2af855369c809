#include "services/common/metrics/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace marketdata {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

absl::StatusOr<double> CountOpenFds(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return absl::UnavailableError(absl::StrCat("cannot list ", dir));
  double n = 0;
  while (const dirent* entry = readdir(d)) {
    if (entry->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the descriptor of the listing itself
}

}  // namespace

absl::Status ParseProcStat(absl::string_view stat, double ticks_per_second, double page_size,
                           double boot_time_seconds, ProcessStats* stats) {
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are counted from
  // the last ')'. After it, field 3 (state) is index 0.
  const size_t paren = stat.rfind(')');
  if (paren == absl::string_view::npos) return absl::InvalidArgumentError("no ')' in stat");
  std::vector<absl::string_view> f =
      absl::StrSplit(stat.substr(paren + 1), ' ', absl::SkipWhitespace());
  // Fields 14 utime, 15 stime, 22 starttime, 23 vsize, 24 rss (1-based, as in proc(5)).
  auto field = [&f](int number, double* out) {
    const size_t index = static_cast<size_t>(number - 3);
    return index < f.size() && absl::SimpleAtod(f[index], out);
  };
  double utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
  if (!field(14, &utime) || !field(15, &stime) || !field(22, &start) || !field(23, &vsize) ||
      !field(24, &rss)) {
    return absl::InvalidArgumentError("malformed stat");
  }
  stats->cpu_seconds = (utime + stime) / ticks_per_second;
  stats->start_time_seconds = boot_time_seconds + start / ticks_per_second;
  stats->virtual_bytes = vsize;
  stats->resident_bytes = rss * page_size;
  return absl::OkStatus();
}

absl::StatusOr<double> ParseBootTime(absl::string_view proc_stat) {
  for (absl::string_view line : absl::StrSplit(proc_stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      double value = 0;
      if (absl::SimpleAtod(line, &value)) return value;
    }
  }
  return absl::InvalidArgumentError("no btime in /proc/stat");
}

absl::StatusOr<ProcessStats> ReadProcessStats(const std::string& proc) {
  absl::StatusOr<std::string> stat = ReadFile(proc + "/self/stat");
  if (!stat.ok()) return stat.status();
  absl::StatusOr<std::string> system = ReadFile(proc + "/stat");
  if (!system.ok()) return system.status();
  absl::StatusOr<double> boot = ParseBootTime(*system);
  if (!boot.ok()) return boot.status();
  ProcessStats stats;
  if (absl::Status s = ParseProcStat(*stat, static_cast<double>(sysconf(_SC_CLK_TCK)),
                                     static_cast<double>(sysconf(_SC_PAGESIZE)), *boot, &stats);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<double> fds = CountOpenFds(proc + "/self/fd");
  if (!fds.ok()) return fds.status();
  stats.open_fds = *fds;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) stats.max_fds = static_cast<double>(limit.rlim_cur);
  return stats;
}

void ExportProcessMetrics(MetricsExporter& metrics) {
  using Kind = MetricsExporter::Kind;
  auto add = [&metrics](Kind kind, const char* name, const char* help,
                        double ProcessStats::*field) {
    metrics.AddLabeled(kind, name, help, [field] {
      absl::StatusOr<ProcessStats> stats = ReadProcessStats();
      if (!stats.ok()) return std::vector<MetricSample>{};
      return std::vector<MetricSample>{MetricSample{{}, (*stats).*field}};
    });
  };
  add(Kind::kCounter, "process_cpu_seconds_total", "CPU time the process has used, user and system.",
      &ProcessStats::cpu_seconds);
  add(Kind::kGauge, "process_resident_memory_bytes", "Memory the process holds in RAM.",
      &ProcessStats::resident_bytes);
  add(Kind::kGauge, "process_virtual_memory_bytes", "Address space the process has mapped.",
      &ProcessStats::virtual_bytes);
  add(Kind::kGauge, "process_start_time_seconds",
      "When the process started, in Unix seconds.", &ProcessStats::start_time_seconds);
  add(Kind::kGauge, "process_open_fds", "File descriptors the process has open.",
      &ProcessStats::open_fds);
  add(Kind::kGauge, "process_max_fds", "Most file descriptors the process may open (its soft limit).",
      &ProcessStats::max_fds);
}

}  // namespace marketdata
