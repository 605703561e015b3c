#pragma once
// Group commit for orders: a writer thread takes every order queued since its last commit,
// writes them in one transaction (one fsync), then hands each order's result back to the
// control-plane loop. A buyer is told "confirmed" only from that callback, i.e. after the fsync.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "commerce/ledger.h"
#include "commerce/types.h"
#include "core/event_loop.h"
#include "core/status.h"
#include "store/store.h"

namespace harvest::store {

struct OrderWriterOptions {
  size_t max_group = 4096;  // orders per transaction at most
};

class OrderWriter final : public commerce::OrderJournal {
public:

  OrderWriter(Store& store, EventLoop& loop, OrderWriterOptions options = {});
  // Commits what is queued, then stops the thread. Callbacks of that last group are posted to
  // the loop (they run only if the loop runs again).
  ~OrderWriter() override;
  OrderWriter(const OrderWriter&) = delete;
  OrderWriter& operator=(const OrderWriter&) = delete;

  // Any thread. Queues `order`; `done` runs later on the loop thread.
  void submit(commerce::Order order, Done done) override;
  void submit_change(commerce::Order after, std::optional<commerce::PaymentRecord> payment, Done done) override;
  // Any thread. Queues the idempotency record of a final rejection. The buyer has its answer
  // already (a rejection moves no money, so it does not wait for the disk); the record is
  // written with the next group, so a retry after a restart gets the same answer.
  void record_rejection(commerce::RejectedBuy rejection) override;

private:
  struct Item {
    commerce::Order order;
    bool change = false;  // a later state of a stored order, not a new one
    std::optional<commerce::PaymentRecord> payment;
    Done done;
    std::chrono::steady_clock::time_point queued_at;
  };
  void run();

  Store& store_;
  EventLoop& loop_;
  OrderWriterOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  std::vector<commerce::RejectedBuy> rejections_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace harvest::store
