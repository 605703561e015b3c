// Durable buys/s on one hot product with PostgreSQL (issue 19), three ways:
//   grouped, 1 node:  PgStore::commit_orders in groups (what the order writer does), one writer;
//   grouped, 2 nodes: the same from two PgStores at once (two nodes' writers on one database);
//   naive baseline:   one transaction per buy (conditional UPDATE + INSERT + COMMIT), from
//                     `--clients` connections at once: a hot row lock per round trip.
// Every run sells a product of exactly `--buys` units to more buyers than that and checks that
// exactly `--buys` orders were stored (no oversell). Durable: fsync on, synchronous_commit on.
//   pg_hot_product URL [--buys N] [--group N] [--clients N]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "store/pg_connection.h"
#include "store/pg_store.h"

using namespace harvest;
using Clock = std::chrono::steady_clock;

namespace {

commerce::Order buy(const std::string& stream, int64_t id, const std::string& viewer) {
  commerce::Order o;
  o.id = id;
  o.stream_id = stream;
  o.viewer_id = viewer;
  o.idempotency_key = "k";
  o.product_id = "pear";
  o.qty = 1;
  o.unit_price = 100;
  o.total = 100;
  o.currency = "CNY";
  o.status = commerce::OrderStatus::reserved;
  return o;
}

void catalog(store::PgStore& db, const std::string& stream, int64_t units) {
  commerce::Product p;
  p.id = "pear";
  p.title = "pear";
  p.price = 100;
  p.stock = units;
  if (!db.save_products(stream, {p})) std::exit(1);
}

int64_t stored_orders(store::PgStore& db, const std::string& stream) {
  std::vector<commerce::Order> out;
  if (!db.list_orders(stream, out)) std::exit(1);
  return static_cast<int64_t>(out.size());
}

// Sells `buys` units to 1.2x as many buyers from `nodes` stores; returns durable buys/s.
double grouped(const std::string& url, const std::string& stream, int nodes, int64_t buys, int64_t group) {
  std::vector<std::unique_ptr<store::PgStore>> stores;
  for (int n = 0; n < nodes; ++n) stores.push_back(std::make_unique<store::PgStore>(url));
  catalog(*stores[0], stream, buys);
  const int64_t per_node = buys * 12 / 10 / nodes;
  std::atomic<int64_t> stored{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int n = 0; n < nodes; ++n) {
    threads.emplace_back([&, n] {
      store::PgStore& db = *stores[static_cast<size_t>(n)];
      const int64_t base = db.max_order_id();
      for (int64_t i = 0; i < per_node; i += group) {
        std::vector<commerce::Order> orders;
        for (int64_t j = i; j < std::min(per_node, i + group); ++j)
          orders.push_back(buy(stream, base + j + 1, "n" + std::to_string(n) + "-" + std::to_string(j)));
        std::vector<commerce::Committed> results;
        if (!db.commit_orders(orders, results)) std::exit(1);
        int64_t ok = 0;
        for (const auto& r : results) ok += r.verdict == commerce::Verdict::stored ? 1 : 0;
        stored += ok;
        if (ok == 0) break;  // sold out: the rest would be refused too
      }
    });
  }
  for (auto& t : threads) t.join();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (stored.load() != buys || stored_orders(*stores[0], stream) != buys) {
    std::fprintf(stderr, "OVERSELL or undersell: %lld stored of %lld\n",
                 static_cast<long long>(stored.load()), static_cast<long long>(buys));
    std::exit(1);
  }
  return static_cast<double>(buys) / s;
}

// One transaction per buy from `clients` connections at once.
double naive(const std::string& url, const std::string& stream, int clients, int64_t buys) {
  store::PgStore setup(url);
  catalog(setup, stream, buys);
  const int64_t attempts = buys * 12 / 10;
  std::atomic<int64_t> next{0}, stored{0};
  const int64_t base = setup.max_order_id();
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      store::PgConnection db;
      if (!db.open(url)) std::exit(1);
      for (int64_t i; (i = next++) < attempts;) {
        if (!db.exec("BEGIN")) std::exit(1);
        store::PgResult up = db.run("take",
                                    "UPDATE products SET sold = sold + 1 WHERE stream_id = $1 AND id = 'pear'"
                                    " AND stock_ceiling - sold >= 1",
                                    store::PgParams().text(stream));
        if (!up.ok()) std::exit(1);
        if (up.affected() == 0) {
          db.exec("ROLLBACK");
          continue;
        }
        store::PgResult ins =
            db.run("insert",
                   "INSERT INTO orders (id, stream_id, viewer_id, idempotency_key, product_id, qty, "
                   "unit_price, total,"
                   " currency, card_product_id, media_card_product_id, sale_id, server_time_ms)"
                   " VALUES ($1, $2, $3, 'k', 'pear', 1, 100, 100, 'CNY', '', '', '', 0)",
                   store::PgParams().integer(base + i + 1).text(stream).text("v" + std::to_string(i)));
        if (!ins.ok() || !db.exec("COMMIT")) std::exit(1);
        ++stored;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (stored.load() != buys || stored_orders(setup, stream) != buys) {
    std::fprintf(stderr, "naive: %lld stored of %lld\n", static_cast<long long>(stored.load()),
                 static_cast<long long>(buys));
    std::exit(1);
  }
  return static_cast<double>(buys) / s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: pg_hot_product URL [--buys N] [--group N] [--clients N]\n");
    return 2;
  }
  const std::string url = argv[1];
  int64_t buys = 20000, group = 500;
  int clients = 8;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--buys"))
      buys = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--group"))
      group = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--clients"))
      clients = std::atoi(argv[i + 1]);
  }
  {
    store::PgStore check(url);
    if (!check.error().empty()) {
      std::fprintf(stderr, "%s\n", check.error().c_str());
      return 1;
    }
  }
  std::printf("one hot product, %lld units, 1.2x as many buyers; every run sold exactly the units\n",
              static_cast<long long>(buys));
  std::printf("grouped (%lld per transaction), 1 node : %8.0f durable buys/s\n",
              static_cast<long long>(group), grouped(url, "g1", 1, buys, group));
  std::printf("grouped (%lld per transaction), 2 nodes: %8.0f durable buys/s\n",
              static_cast<long long>(group), grouped(url, "g2", 2, buys, group));
  std::printf("naive (1 UPDATE+INSERT+COMMIT per buy, %d connections): %8.0f durable buys/s\n", clients,
              naive(url, "n1", clients, std::min<int64_t>(buys, 5000)));
  return 0;
}
