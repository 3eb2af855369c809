// PriceStore, the outbox and migrations against a real PostgreSQL.
#include <algorithm>
#include <atomic>
#include <optional>
#include <set>
#include <thread>

#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/storage/migrations.h"
#include "services/storage/outbox_backlog.h"
#include "services/storage/price_store.h"
#include "services/storage/raw_reply_store.h"
#include "services/storage/price_writer.h"
#include "soci/soci.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::MustAcquire;
using ::marketdata::testing::ScratchDatabase;

Quote MakeQuote(const std::string& symbol, double price) {
  return Quote{symbol, price, absl::FromUnixMicros(1767225600123456), "test",
               R"({"symbol":")" + symbol + R"(","price":1})"};
}

PriceWriterOptions WriterOptions(size_t max_batch, absl::Duration linger = absl::ZeroDuration()) {
  PriceWriterOptions options;
  options.max_batch = max_batch;
  options.linger = linger;
  return options;
}

long long Count(Database& db, const std::string& table) {
  auto lease = MustAcquire(db);
  long long n = 0;
  *lease << "SELECT count(*) FROM " + table, soci::into(n);
  return n;
}

TEST(MigrationsTest, FreshDatabaseGetsEveryTableOnceAndRecordsVersions) {
  ScratchDatabase scratch;
  auto db = Database::Connect(scratch.url(), 2, absl::Seconds(10));
  ASSERT_TRUE(db.ok()) << db.status();
  auto applied = ApplyMigrations(**db, EmbeddedMigrations());
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, static_cast<int>(EmbeddedMigrations().size()));
  EXPECT_EQ(*ApplyMigrations(**db, EmbeddedMigrations()), 0);  // idempotent
  for (const char* table : {"raw_market_data", "price_points", "price_event_outbox",
                            "moving_averages", "polling_jobs"}) {
    EXPECT_EQ(Count(**db, table), 0) << table;
  }
  EXPECT_EQ(Count(**db, "schema_migrations"), static_cast<long long>(EmbeddedMigrations().size()));
}

TEST(MigrationsTest, ConcurrentStartsApplyEachMigrationOnce) {
  ScratchDatabase scratch;
  std::vector<int> applied(4, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto db = Database::Connect(scratch.url(), 1, absl::Seconds(10));
      if (!db.ok()) return;
      auto n = ApplyMigrations(**db, EmbeddedMigrations());
      if (n.ok()) applied[i] = *n;
    });
  }
  for (auto& t : threads) t.join();
  int total = 0;
  for (int n : applied) {
    ASSERT_GE(n, 0);
    total += n;
  }
  EXPECT_EQ(total, static_cast<int>(EmbeddedMigrations().size()));
}

// Each migration commits with its record: a failed one leaves nothing of itself behind, those
// before it stay applied, and the next start applies what is left.
TEST(MigrationsTest, AFailedMigrationLeavesNothingOfItselfBehind) {
  ScratchDatabase scratch;
  auto db = Database::Connect(scratch.url(), 1, absl::Seconds(10));
  ASSERT_TRUE(db.ok());
  std::vector<Migration> broken = {{1, "0001_ok", "CREATE TABLE a (x int);"},
                                   {2, "0002_broken", "CREATE TABLE b (x int); SELEC 1;"}};
  auto applied = ApplyMigrations(**db, broken);
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.status().message().find("0002_broken"), absl::string_view::npos);
  {
    auto lease = MustAcquire(**db);
    int tables = 0, recorded = 0;
    *lease << "SELECT count(*) FROM pg_tables WHERE tablename IN ('a', 'b')", soci::into(tables);
    *lease << "SELECT count(*) FROM schema_migrations", soci::into(recorded);
    EXPECT_EQ(tables, 1) << "a, not b";
    EXPECT_EQ(recorded, 1);
  }
  broken[1].sql = "CREATE TABLE b (x int);";
  applied = ApplyMigrations(**db, broken);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, 1);
}

TEST(PriceStoreTest, SaveWritesRawReplyPricePointAndOutboxTogether) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated();
  PostgresPriceStore store(*db);
  auto stored = store.SavePrice(MakeQuote("AAPL", 181.25));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_GT(stored->price_point_id, 0);
  EXPECT_GT(stored->raw_response_id, 0);

  auto lease = MustAcquire(*db);
  std::string symbol, provider;
  double price = 0;
  long long ts_us = 0, raw_id = 0;
  *lease << "SELECT p.symbol, p.price, CAST(extract(epoch FROM p.ts) * 1000000 AS BIGINT), "
            "p.provider, p.raw_response_id FROM price_points p WHERE p.id = :id",
      soci::use(static_cast<long long>(stored->price_point_id)), soci::into(symbol),
      soci::into(price), soci::into(ts_us), soci::into(provider), soci::into(raw_id);
  EXPECT_EQ(symbol, "AAPL");
  EXPECT_EQ(price, 181.25);
  EXPECT_EQ(ts_us, 1767225600123456);  // microsecond precision survives the round trip
  EXPECT_EQ(provider, "test");
  EXPECT_EQ(raw_id, stored->raw_response_id);
  absl::StatusOr<std::vector<RawReply>> raw = LoadRawReplies(*db, raw_id);
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_EQ(raw->size(), 1u);
  EXPECT_EQ((*raw)[0].symbol, "AAPL");
  EXPECT_EQ((*raw)[0].provider, "test");
  EXPECT_EQ((*raw)[0].quote_time, absl::FromUnixMicros(1767225600123456));
  EXPECT_EQ((*raw)[0].reply, R"({"symbol":"AAPL","price":1})");
  EXPECT_EQ(Count(*db, "price_event_outbox"), 1);
  EXPECT_EQ(LoadRawReplies(*db, raw_id + 1000).status().code(), absl::StatusCode::kNotFound);
}

// A range may reach back to year 1: the bounds go to PostgreSQL with four digits of year.
TEST(PriceStoreTest, RangesBeforeTheYear1000AreRangesNotErrors) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated();
  PostgresPriceStore store(*db);
  ASSERT_TRUE(store.SavePrice(MakeQuote("AAPL", 181.25)).ok());
  const absl::Time year_56 = absl::FromCivil(absl::CivilSecond(56, 9, 22, 12, 19, 30),
                                             absl::UTCTimeZone());
  PriceQuery query;
  query.symbol = "AAPL";
  query.end = year_56;
  absl::StatusOr<PricePage> before = store.ListPrices(query);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_TRUE(before->prices.empty());
  query.start = absl::FromUnixSeconds(-62135596800);  // 0001-01-01
  query.end.reset();
  absl::StatusOr<PricePage> since = store.ListPrices(query);
  ASSERT_TRUE(since.ok()) << since.status();
  EXPECT_EQ(since->prices.size(), 1u);
}

// A quote the database refuses (here: a time no partition holds) leaves nothing behind.
TEST(PriceStoreTest, ARefusedQuoteFailsWithoutPartialRows) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated();
  PostgresPriceStore store(*db);
  Quote quote = MakeQuote("AAPL", 1);
  quote.timestamp = absl::Now() + absl::Hours(24 * 365);
  auto stored = store.SavePrice(quote);
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Count(*db, "raw_market_data"), 0);
  EXPECT_EQ(Count(*db, "price_points"), 0);
  EXPECT_EQ(Count(*db, "price_event_outbox"), 0);
}

TEST(PriceOutboxTest, ClaimsOnlyDueEntriesHidesThemForTheLeaseAndForgetsAcknowledged) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated();
  PostgresPriceStore store(*db);
  auto a = store.SavePrice(MakeQuote("AAPL", 1));
  auto b = store.SavePrice(MakeQuote("MSFT", 2));
  ASSERT_TRUE(a.ok() && b.ok());
  // Fresh entries wait for the live publisher first.
  EXPECT_TRUE(store.ClaimDue(10, absl::Seconds(30))->empty());
  {
    auto lease = MustAcquire(*db);
    *lease << "UPDATE price_event_outbox SET available_at = now() - interval '1 second'";
  }
  auto claimed = store.ClaimDue(10, absl::Seconds(30));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].price_point_id, a->price_point_id);
  EXPECT_EQ((*claimed)[0].quote.symbol, "AAPL");
  EXPECT_EQ((*claimed)[0].raw_response_id, a->raw_response_id);
  EXPECT_EQ((*claimed)[0].quote.timestamp, a->quote.timestamp);
  EXPECT_EQ((*claimed)[1].quote.price, 2);
  EXPECT_TRUE(store.ClaimDue(10, absl::Seconds(30))->empty());  // leased

  ASSERT_TRUE(store.Acknowledge({a->price_point_id}).ok());
  EXPECT_EQ(Count(*db, "price_event_outbox"), 1);
  {
    auto lease = MustAcquire(*db);
    *lease << "UPDATE price_event_outbox SET available_at = now() - interval '1 second'";
  }
  auto again = store.ClaimDue(10, absl::Seconds(30));
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].price_point_id, b->price_point_id);
}

// The relay may publish an event long after the call, from another replica: the ids of the
// request the price was fetched for come back with the claim, for the event's headers.
TEST(PriceOutboxTest, ClaimsKeepTheRequestsIds) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated();
  PostgresPriceStore store(*db);
  Quote from_call = MakeQuote("AAPL", 1);
  from_call.origin = RequestContext::From(
      "req-\"quoted\",{braces}", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(SavePriceBatch(*db, {from_call, MakeQuote("MSFT", 2)}).ok());
  {
    auto lease = MustAcquire(*db);
    *lease << "UPDATE price_event_outbox SET available_at = now() - interval '1 second'";
  }
  auto claimed = store.ClaimDue(10, absl::Seconds(30));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].quote.origin.request_id, from_call.origin.request_id);
  EXPECT_EQ((*claimed)[0].quote.origin.traceparent, from_call.origin.traceparent);
  EXPECT_TRUE((*claimed)[1].quote.origin.empty());  // a polling run's price: none
  EXPECT_EQ(Count(*db, "price_event_outbox WHERE request_id IS NULL AND traceparent IS NULL"), 1);
}

TEST(PriceOutboxTest, ConcurrentClaimersNeverGetTheSameEntry) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(4);
  PostgresPriceStore store(*db);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(store.SavePrice(MakeQuote("SPY", i)).ok());
  {
    auto lease = MustAcquire(*db);
    *lease << "UPDATE price_event_outbox SET available_at = now() - interval '1 second'";
  }
  std::vector<std::vector<int64_t>> claimed(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      while (true) {
        auto batch = store.ClaimDue(7, absl::Seconds(30));
        if (!batch.ok() || batch->empty()) return;
        for (const auto& p : *batch) claimed[t].push_back(p.price_point_id);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> all;
  size_t total = 0;
  for (const auto& ids : claimed) {
    total += ids.size();
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(total, 200u);
  EXPECT_EQ(all.size(), 200u);
}

TEST(PriceWriterTest, ConcurrentSavesShareCommitsAndEachGetsItsOwnRows) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(4);
  PriceWriter writer(*db, WriterOptions(64));
  constexpr int kThreads = 32, kEach = 40;
  std::vector<std::vector<StoredPrice>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Quote q = MakeQuote("W" + std::to_string(t), t * 1000 + i);
        q.raw_response = R"({"quote":"with \"escapes\", commas, {braces}","n":)" +
                         std::to_string(i) + "}";
        auto stored = writer.SavePrice(q);
        ASSERT_TRUE(stored.ok()) << stored.status();
        results[t].push_back(*stored);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> points, raws;
  auto lease = MustAcquire(*db);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      const StoredPrice& p = results[t][i];
      points.insert(p.price_point_id);
      raws.insert(p.raw_response_id);
      // Each caller's ids point at its own rows.
      std::string symbol;
      double price = 0;
      *lease << "SELECT p.symbol, p.price FROM price_points p WHERE p.id = :id AND "
                "p.raw_response_id = :raw",
          soci::use(static_cast<long long>(p.price_point_id)),
          soci::use(static_cast<long long>(p.raw_response_id)), soci::into(symbol),
          soci::into(price);
      ASSERT_EQ(symbol, "W" + std::to_string(t));
      ASSERT_EQ(price, t * 1000 + i);
      // Its reply is among those of its write, intact.
      absl::StatusOr<std::vector<RawReply>> raw = LoadRawReplies(*db, p.raw_response_id);
      ASSERT_TRUE(raw.ok()) << raw.status();
      const std::string want = R"({"quote":"with \"escapes\", commas, {braces}","n":)" +
                               std::to_string(i) + "}";
      ASSERT_EQ(std::count_if(raw->begin(), raw->end(),
                              [&](const RawReply& r) {
                                return r.symbol == symbol && r.reply == want;
                              }),
                1);
    }
  }
  EXPECT_EQ(points.size(), static_cast<size_t>(kThreads * kEach));
  // One row of raw replies per commit, which all its prices name.
  EXPECT_EQ(raws.size(), static_cast<size_t>(writer.batches()));
  EXPECT_EQ(Count(*db, "price_event_outbox"), kThreads * kEach);
  EXPECT_EQ(writer.prices_written(), kThreads * kEach);
  EXPECT_LT(writer.batches(), kThreads * kEach);  // commits were shared
}

// Saves queued while a commit runs wait for it and then go out together, in one commit; and with
// a linger, prices that follow one another closely while requests are concurrent share a commit.
TEST(PriceWriterTest, PricesArrivingDuringACommitShareTheNextOne) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(4);
  PriceWriter writer(*db, WriterOptions(64, absl::Seconds(2)));
  auto save = [&writer](const std::string& symbol, absl::BlockingCounter* answered,
                        std::atomic<int>* failed) {
    writer.SavePriceAsync(MakeQuote(symbol, 1), [answered, failed](absl::StatusOr<StoredPrice> s) {
      if (!s.ok()) failed->fetch_add(1);
      answered->DecrementCount();
    });
  };
  std::atomic<int> failed{0};
  // The writer's first statement waits for the lock that orders commits, held here.
  auto holder = MustAcquire(*db);
  *holder << "BEGIN";
  *holder << "SELECT pg_advisory_xact_lock(4242001)";
  absl::BlockingCounter first(1), queued(10);
  save("FIRST", &first, &failed);
  auto lock_waits = [&db] {
    auto lease = MustAcquire(*db);
    long long n = 0;
    *lease << "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
              "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        soci::into(n);
    return n;
  };
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (lock_waits() == 0) ASSERT_LT(absl::Now(), give_up) << "the writer never reached the lock";
  for (int i = 0; i < 10; ++i) save("QUEUED", &queued, &failed);
  *holder << "COMMIT";
  first.Wait();
  queued.Wait();
  EXPECT_EQ(writer.batches(), 2);
  EXPECT_EQ(writer.prices_written(), 11);

  // The last batch held ten prices: the writer now lingers, so two saves a moment apart share
  // one commit.
  absl::BlockingCounter pair(2);
  save("X", &pair, &failed);
  save("Y", &pair, &failed);
  pair.Wait();
  EXPECT_EQ(writer.batches(), 3);
  EXPECT_EQ(writer.prices_written(), 13);
  EXPECT_EQ(failed.load(), 0);
}

TEST(PriceWriterTest, ABadQuoteFailsAloneNotItsBatch) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(4);
  PriceWriter writer(*db, WriterOptions(64));
  std::vector<absl::Status> statuses(16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      Quote q = MakeQuote("B", i);
      if (i == 7) q.timestamp = absl::Now() + absl::Hours(24 * 365);  // no partition holds it
      statuses[i] = writer.SavePrice(q).status();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 16; ++i) EXPECT_EQ(statuses[i].ok(), i != 7) << i;
  EXPECT_EQ(Count(*db, "price_points"), 15);
}

TEST(PriceWriterTest, AsyncSavesAnswerOnceEachAfterTheirCommit) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(4);
  PriceWriter writer(*db, WriterOptions(64));
  constexpr int kSaves = 500;
  std::vector<absl::StatusOr<StoredPrice>> results(kSaves, absl::InternalError("no answer"));
  std::vector<int> answers(kSaves, 0);
  absl::BlockingCounter answered(kSaves);
  for (int i = 0; i < kSaves; ++i) {
    writer.SavePriceAsync(MakeQuote("A" + std::to_string(i % 7), i),
                          [&, i](absl::StatusOr<StoredPrice> stored) {
                            // Committed before the answer: visible from another session.
                            if (stored.ok()) {
                              auto lease = MustAcquire(*db);
                              long long found = 0;
                              *lease << "SELECT count(*) FROM price_points WHERE id = :id",
                                  soci::use(static_cast<long long>(stored->price_point_id)),
                                  soci::into(found);
                              if (found != 1) stored = absl::InternalError("not visible");
                            }
                            results[i] = std::move(stored);
                            ++answers[i];
                            answered.DecrementCount();
                          });
  }
  answered.Wait();
  std::set<int64_t> ids;
  for (int i = 0; i < kSaves; ++i) {
    ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].status();
    EXPECT_EQ(answers[i], 1) << i;
    EXPECT_EQ(results[i]->quote.price, i);
    ids.insert(results[i]->price_point_id);
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kSaves));
  EXPECT_EQ(Count(*db, "price_points"), kSaves);
}

TEST(PriceWriterTest, StoppingWritesWhatWasQueuedAndRefusesTheRest) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  std::atomic<int> written{0};
  {
    PriceWriter writer(*db, WriterOptions(8));
    for (int i = 0; i < 100; ++i) {
      writer.SavePriceAsync(MakeQuote("S", i), [&](absl::StatusOr<StoredPrice> stored) {
        if (stored.ok()) written.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(written.load(), 100);
  EXPECT_EQ(Count(*db, "price_points"), 100);
}

TEST(DatabaseTest, AConnectionTheServerDroppedIsReplaced) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(1);
  PostgresPriceStore store(*db);
  ASSERT_TRUE(store.SavePrice(MakeQuote("D", 1)).ok());
  {
    auto killer = Database::Connect(scratch.url(), 1, absl::Seconds(10));
    ASSERT_TRUE(killer.ok()) << killer.status();
    auto lease = MustAcquire(**killer);
    int killed = 0;
    // The pool's session only: an autovacuum worker may be at work in the database too.
    *lease << "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
              "WHERE datname = current_database() AND pid <> pg_backend_pid() "
              "AND backend_type = 'client backend'",
        soci::into(killed);
    ASSERT_EQ(killed, 1);
  }
  // The first use after the drop may fail as UNAVAILABLE (never as an internal error); the pool
  // then reconnects, and prepared statements are prepared again on the new connection.
  absl::StatusOr<StoredPrice> first = store.SavePrice(MakeQuote("D", 2));
  if (!first.ok()) {
    EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  }
  absl::StatusOr<StoredPrice> second = store.SavePrice(MakeQuote("D", 3));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(Count(*db, "price_points"), first.ok() ? 3 : 2);
}

// The same URL, through 127.0.0.1:port.
std::string ViaPort(const std::string& url, int port) {
  const size_t at = url.rfind('@');
  const size_t colon = url.find(':', at);
  const size_t slash = url.find('/', at);
  return url.substr(0, colon) + ":" + std::to_string(port) + url.substr(slash);
}

// PostgreSQL gone (its connections dropped, new ones refused): every call fails quickly as
// UNAVAILABLE and nothing crashes, however often it is tried; once the server is back, the pool
// reconnects by itself within a second and nothing was written twice.
TEST(DatabaseTest, AServerThatIsGoneIsUnavailableAndThenRecovered) {
  ScratchDatabase scratch;
  scratch.ConnectMigrated(1);
  const std::string url = scratch.url();
  const size_t at = url.rfind('@'), colon = url.find(':', at), slash = url.find('/', at);
  testing::TcpProxy proxy(url.substr(at + 1, colon - at - 1),
                          std::stoi(url.substr(colon + 1, slash - colon - 1)));
  DatabaseOptions options;
  options.pool_size = 2;
  options.connect_wait = absl::Seconds(10);
  options.connect_timeout = absl::Seconds(2);
  options.pool_wait = absl::Seconds(1);
  auto db = Database::Connect(ViaPort(url, proxy.port()), options);
  ASSERT_TRUE(db.ok()) << db.status();
  PostgresPriceStore store(**db);
  ASSERT_TRUE(store.SavePrice(MakeQuote("GONE", 1)).ok());

  proxy.Cut();
  const absl::Time cut_at = absl::Now();
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<StoredPrice> saved = store.SavePrice(MakeQuote("GONE", 2));
    ASSERT_FALSE(saved.ok());
    EXPECT_EQ(saved.status().code(), absl::StatusCode::kUnavailable) << saved.status();
    PriceQuery query;
    query.symbol = "GONE";
    absl::StatusOr<PricePage> page = store.ListPrices(query);
    ASSERT_FALSE(page.ok());
    EXPECT_EQ(page.status().code(), absl::StatusCode::kUnavailable) << page.status();
  }
  EXPECT_LT(absl::Now() - cut_at, absl::Seconds(10)) << "40 failed calls must not wait long";

  proxy.Restore();
  const absl::Time restored_at = absl::Now();
  absl::StatusOr<StoredPrice> saved;
  do {
    saved = store.SavePrice(MakeQuote("GONE", 3));
  } while (!saved.ok() && absl::Now() - restored_at < absl::Seconds(5));
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_LT(absl::Now() - restored_at, absl::Seconds(1));
  EXPECT_EQ(Count(**db, "price_points"), 2);
}

// A price waiting in the outbox when the outbox learns its price's key is still published.
TEST(OutboxTest, RowsInFlightAtTheUpgradeAreFoundByTheirPricesKey) {
  ScratchDatabase scratch;
  auto db = Database::Connect(scratch.url(), 2, absl::Seconds(10));
  ASSERT_TRUE(db.ok()) << db.status();
  std::vector<Migration> before;
  for (const Migration& m : EmbeddedMigrations()) {
    if (m.version <= 9) before.push_back(m);
  }
  ASSERT_TRUE(ApplyMigrations(**db, before).ok());
  {
    auto lease = MustAcquire(**db);
    *lease << "INSERT INTO price_points (id, symbol, price, ts, provider) VALUES "
              "(41, 'FLY', 10, now() - interval '1 hour', 'test'), "
              "(42, 'FLY', 11, now(), 'test')";
    *lease << "INSERT INTO price_event_outbox (price_point_id, available_at) VALUES "
              "(42, now() - interval '1 second'), (43, now() - interval '1 second')";
  }
  ASSERT_TRUE(ApplyMigrations(**db, EmbeddedMigrations()).ok());
  // Row 43 had no price: it could never have been published.
  EXPECT_EQ(Count(**db, "price_event_outbox"), 1);
  PostgresPriceStore store(**db);
  auto claimed = store.ClaimDue(10, absl::Seconds(30));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].price_point_id, 42);
  EXPECT_EQ((*claimed)[0].quote.price, 11);
}

TEST(OutboxBacklogTest, CountsWaitingRowsAndTheOldestOnesAge) {
  ScratchDatabase scratch;
  std::unique_ptr<Database> db = scratch.ConnectMigrated();
  absl::StatusOr<OutboxBacklog> empty = ReadOutboxBacklog(*db, absl::Seconds(1));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->rows, 0);
  EXPECT_EQ(empty->oldest_age_seconds, 0);

  PostgresPriceStore store(*db);
  auto first = store.SavePrice(MakeQuote("AAPL", 1));
  ASSERT_TRUE(first.ok());
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_TRUE(store.SavePrice(MakeQuote("MSFT", 2)).ok());
  absl::StatusOr<OutboxBacklog> two = ReadOutboxBacklog(*db, absl::Seconds(1));
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->rows, 2);
  EXPECT_GE(two->oldest_age_seconds, 0.2);  // the first price's, not the second's
  EXPECT_LT(two->oldest_age_seconds, 60);

  ASSERT_TRUE(store.Acknowledge({first->price_point_id}).ok());
  EXPECT_EQ(ReadOutboxBacklog(*db, absl::Seconds(1))->rows, 1);

  OutboxBacklogMonitor monitor(*db);
  monitor.Start();
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!monitor.last().has_value() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  monitor.Stop();
  ASSERT_TRUE(monitor.last().has_value());
  EXPECT_EQ(monitor.last()->rows, 1);
}

TEST(DatabasePoolTest, CountsLeasesAndAcquisitionsThatWaited) {
  ScratchDatabase scratch;
  std::unique_ptr<Database> db = scratch.ConnectMigrated(1);
  EXPECT_EQ(db->pool_stats().size, 1u);
  EXPECT_EQ(db->pool_stats().in_use, 0u);
  EXPECT_EQ(db->pool_stats().waits, 0);
  std::optional<Database::Lease> held(MustAcquire(*db));
  EXPECT_EQ(db->pool_stats().in_use, 1u);
  EXPECT_EQ(db->pool_stats().waits, 0);  // a free session is no wait

  std::atomic<bool> got{false};
  std::thread waiter([&] { got = db->Acquire().ok(); });
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (db->pool_stats().waits == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::SleepFor(absl::Milliseconds(100));
  held.reset();
  waiter.join();
  EXPECT_TRUE(got);
  EXPECT_EQ(db->pool_stats().in_use, 0u);
  EXPECT_EQ(db->pool_stats().waits, 1);
  EXPECT_GE(db->pool_stats().wait_seconds, 0.09);
}

}  // namespace
}  // namespace marketdata
