// A main for the fuzz targets without libFuzzer, so each target is also a plain test (gcc,
// `bazel test`): it runs LLVMFuzzerTestOneInput over every file of the corpus folders given as
// arguments, then over deterministic pseudo-random mutations of them (bit flips, byte changes,
// truncations, insertions, deletions, duplications, dictionary tokens, splices; fixed seed).
// A crash, a failed check (abort) or an escaping exception fails the test; the input that did
// it is printed and saved as crash-input in TEST_UNDECLARED_OUTPUTS_DIR. Corpus files run in
// child processes, so every failing one is listed; mutations run only when none fails.
//
// Usage: <test> [--mutations=N] [--seed=S] CORPUS_DIR...
// Relative folders are found in the runfiles ($TEST_SRCDIR/$TEST_WORKSPACE) when those are set.
#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr size_t kMaxInputBytes = 64 << 10;

// Tokens that move JSON and protobuf parsers off their common paths.
const char* const kDictionary[] = {
    "null", "true", "false", "{}", "[]", "\"\"", ",", ":", "\"", "\\", "\\u0000", "\\ud800",
    "\\udc00", "\\u0041", "\\t", "\\\"", "0", "-0", "1e999", "-1e999", "1e-400", "NaN",
    "9223372036854775807", "18446744073709551616", "1.7976931348623157e308", "4.9e-324",
    "\"Global Quote\"", "\"05. price\"", "\"07. latest trading day\"", "\"Note\"",
    "\"Information\"", "\"Error Message\"", "\"c\"", "\"t\"", "\"error\"", "\"chart\"",
    "\"result\"", "\"meta\"", "\"regularMarketPrice\"", "\"regularMarketTime\"", "\"code\"",
    "\"Not Found\"", "apikey", "AVKEY9Z8Y7", "fhkey_c9q1r2s3", "zq", "u0041", "\xc3\xa9",
    "\xe2\x82\xac", "\xf0\x9f\x92\xb5", "\xff", "\xc3", "\x80", "\x7f", "\x01",
    // protobuf: tags of PriceEvent's fields, long varints, a huge length, a group start
    "\x0a", "\x11", "\x1a", "\x22", "\x28", "\x30", "\x08", "\x10",
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "\x80\x80\x80\x80\x10", "\x0b", "\x0c",
};

// Interesting single bytes.
const uint8_t kBytes[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '"', '\\', '{', '}', '[', ']',
                          ',',  ':',  '0',  '9',  '-',  'e', '.',  ' ', '\n', 0x0a, 0x12};

struct Current {
  char label[512] = "";
  const uint8_t* data = nullptr;
  size_t size = 0;
  char save_path[4096] = "";
  bool save = false;  // mutations only: a corpus file is a file already
};
Current current;

void WriteAll(int fd, const void* buf, size_t len) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n <= 0) return;
    p += n;
    len -= static_cast<size_t>(n);
  }
}

void WriteStr(int fd, const char* s) { WriteAll(fd, s, strlen(s)); }

// Async-signal-safe: write() only.
void OnFatalSignal(int sig) {
  WriteStr(2, "\n*** fuzz input failed: ");
  WriteStr(2, current.label);
  WriteStr(2, "\n*** input (escaped, first 4096 bytes): \"");
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < current.size && i < 4096; ++i) {
    const uint8_t c = current.data[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      WriteAll(2, &c, 1);
    } else {
      char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
      WriteAll(2, esc, 4);
    }
  }
  WriteStr(2, "\"\n");
  if (current.save && current.save_path[0] != '\0') {
    int fd = open(current.save_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      WriteAll(fd, current.data, current.size);
      close(fd);
      WriteStr(2, "*** saved as ");
      WriteStr(2, current.save_path);
      WriteStr(2, "\n");
    }
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

struct Seed {
  std::string name;
  std::vector<uint8_t> bytes;
};

class Mutator {
 public:
  Mutator(uint64_t seed, const std::vector<Seed>& seeds) : rng_(seed), seeds_(seeds) {}

  std::vector<uint8_t> Mutate(std::vector<uint8_t> in) {
    const int rounds = 1 + static_cast<int>(Below(4));
    for (int i = 0; i < rounds; ++i) MutateOnce(in);
    if (in.size() > kMaxInputBytes) in.resize(kMaxInputBytes);
    return in;
  }

 private:
  // Uniform enough for test inputs, and the same on every standard library (unlike
  // std::uniform_int_distribution).
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  void MutateOnce(std::vector<uint8_t>& in) {
    const size_t n = in.size();
    switch (Below(11)) {
      case 0:  // flip one bit
        if (n > 0) in[Below(n)] ^= static_cast<uint8_t>(1u << Below(8));
        break;
      case 1:  // any byte value
        if (n > 0) in[Below(n)] = static_cast<uint8_t>(Below(256));
        break;
      case 2:  // an interesting byte
        if (n > 0) in[Below(n)] = kBytes[Below(sizeof(kBytes))];
        break;
      case 3:  // truncate
        in.resize(Below(n + 1));
        break;
      case 4: {  // delete a range
        if (n == 0) break;
        const size_t at = Below(n);
        const size_t len = 1 + Below(std::min<size_t>(n - at, 16));
        in.erase(in.begin() + at, in.begin() + at + len);
        break;
      }
      case 5: {  // insert random bytes
        const size_t at = Below(n + 1);
        const size_t len = 1 + Below(8);
        std::vector<uint8_t> bytes(len);
        for (uint8_t& b : bytes) b = static_cast<uint8_t>(Below(256));
        in.insert(in.begin() + at, bytes.begin(), bytes.end());
        break;
      }
      case 6: {  // insert or overwrite with a dictionary token
        const char* token = kDictionary[Below(std::size(kDictionary))];
        const size_t len = strlen(token);
        const size_t at = Below(n + 1);
        if (Below(2) == 0 || at + len > n) {
          in.insert(in.begin() + at, token, token + len);
        } else {
          std::copy(token, token + len, in.begin() + at);
        }
        break;
      }
      case 7: {  // duplicate a range elsewhere
        if (n == 0) break;
        const size_t from = Below(n);
        const size_t len = 1 + Below(std::min<size_t>(n - from, 64));
        const std::vector<uint8_t> part(in.begin() + from, in.begin() + from + len);
        const size_t to = Below(n + 1);
        in.insert(in.begin() + to, part.begin(), part.end());
        break;
      }
      case 8: {  // splice: a prefix of this input, a suffix of another
        const Seed& other = seeds_[Below(seeds_.size())];
        const size_t cut = Below(n + 1);
        const size_t from = Below(other.bytes.size() + 1);
        in.resize(cut);
        in.insert(in.end(), other.bytes.begin() + from, other.bytes.end());
        break;
      }
      case 9: {  // change a small decimal or varint number in place
        if (n == 0) break;
        const size_t at = Below(n);
        if (in[at] >= '0' && in[at] <= '9') {
          in[at] = static_cast<uint8_t>('0' + Below(10));
        } else {
          in[at] = static_cast<uint8_t>(in[at] + 1 + Below(3));
        }
        break;
      }
      default:  // the selector bytes at the front (status, key, content type)
        if (n > 0) in[0] = static_cast<uint8_t>(Below(256));
        if (n > 1 && Below(2) == 0) in[1] = static_cast<uint8_t>(Below(256));
        break;
    }
  }

  std::mt19937_64 rng_;
  const std::vector<Seed>& seeds_;
};

std::string Resolve(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (srcdir == nullptr) return path;
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return std::string(srcdir) + "/" + (workspace != nullptr ? workspace : "marketdata") + "/" +
         path;
}

void Run(const std::vector<uint8_t>& input, const std::string& label) {
  std::snprintf(current.label, sizeof(current.label), "%s", label.c_str());
  // An exact-size copy, so reads past the end are out of bounds for a sanitizer too.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[input.size() + (input.empty() ? 1 : 0)]);
  std::copy(input.begin(), input.end(), copy.get());
  current.data = copy.get();
  current.size = input.size();
  LLVMFuzzerTestOneInput(copy.get(), input.size());
  current.data = nullptr;
  current.size = 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t mutations = 20000;
  uint64_t seed = 0x6d64732d66757a7aULL;  // fixed: every run tries the same inputs
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--mutations=", 0) == 0) {
      mutations = std::strtoull(arg.c_str() + 12, nullptr, 10);
    } else if (arg.rfind("--seed=", 0) == 0) {
      seed = std::strtoull(arg.c_str() + 7, nullptr, 10);
    } else {
      dirs.push_back(arg);
    }
  }
  if (const char* env = std::getenv("MDS_FUZZ_MUTATIONS")) {
    mutations = std::strtoull(env, nullptr, 10);
  }
  if (dirs.empty()) {
    std::fprintf(stderr, "usage: %s [--mutations=N] [--seed=S] CORPUS_DIR...\n", argv[0]);
    return 2;
  }
  if (const char* out = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
    std::snprintf(current.save_path, sizeof(current.save_path), "%s/crash-input", out);
  }
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, OnFatalSignal);

  std::vector<Seed> seeds;
  for (const std::string& dir : dirs) {
    const std::string resolved = Resolve(dir);
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(resolved, ec)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    if (ec) {
      std::fprintf(stderr, "cannot read corpus folder %s: %s\n", resolved.c_str(),
                   ec.message().c_str());
      return 2;
    }
    std::sort(files.begin(), files.end());  // directory order varies; results must not
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      seeds.push_back({file.filename().string(), std::vector<uint8_t>(
                                                     std::istreambuf_iterator<char>(in), {})});
    }
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "no corpus files in the given folders\n");
    return 2;
  }

  const auto start = std::chrono::steady_clock::now();
  Run({}, "the empty input");
  // Each corpus file in a child process, so that every failing one is reported (the crash-*
  // files reproduce known bugs), not only the first.
  std::vector<std::string> failed;
  for (const Seed& s : seeds) {
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      return 2;
    }
    if (pid == 0) {
      Run(s.bytes, "corpus file " + s.name);
      std::fflush(nullptr);
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed.push_back(s.name);
  }
  if (!failed.empty()) {
    std::fprintf(stderr, "\n%zu of %zu corpus files failed (mutations not run):\n", failed.size(),
                 seeds.size());
    for (const std::string& name : failed) std::fprintf(stderr, "  %s\n", name.c_str());
    return 1;
  }
  Mutator mutator(seed, seeds);
  current.save = true;
  for (uint64_t i = 0; i < mutations; ++i) {
    const Seed& base = seeds[i % seeds.size()];
    Run(mutator.Mutate(base.bytes), "mutation #" + std::to_string(i) + " of corpus file " +
                                        base.name + " (seed " + std::to_string(seed) + ")");
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu corpus files and %llu mutations of them ran without a failure in %.1f s\n",
              seeds.size(), static_cast<unsigned long long>(mutations), seconds);
  return 0;
}
