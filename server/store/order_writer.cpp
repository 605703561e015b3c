#include "store/order_writer.h"

#include <memory>

#include "core/log.h"
#include "core/metrics.h"

namespace harvest::store {

OrderWriter::OrderWriter(Store& store, EventLoop& loop, OrderWriterOptions options)
    : store_(store), loop_(loop), options_(options), thread_([this] { run(); }) {}

OrderWriter::~OrderWriter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void OrderWriter::submit(commerce::Order order, Done done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Item{std::move(order), false, std::nullopt, std::move(done), std::chrono::steady_clock::now()});
  }
  wake_.notify_one();
}

void OrderWriter::submit_change(commerce::Order after, std::optional<commerce::PaymentRecord> payment, Done done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(
        Item{std::move(after), true, std::move(payment), std::move(done), std::chrono::steady_clock::now()});
  }
  wake_.notify_one();
}

void OrderWriter::record_rejection(commerce::RejectedBuy rejection) {
  {
    std::lock_guard lock(mutex_);
    rejections_.push_back(std::move(rejection));
  }
  wake_.notify_one();
}

void OrderWriter::run() {
  for (;;) {
    auto group = std::make_shared<std::vector<Item>>();
    std::vector<commerce::RejectedBuy> rejections;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || !queue_.empty() || !rejections_.empty(); });
      if (queue_.empty() && rejections_.empty()) return;  // stop_ and nothing left
      rejections.swap(rejections_);
      const size_t n = std::min(queue_.size(), options_.max_group);
      group->reserve(n);
      for (size_t i = 0; i < n; ++i) {
        group->push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!rejections.empty()) {
      if (Status st = store_.commit_rejections(rejections); !st)
        log::error("rejection_commit_failed").kv("rejections", rejections.size()).kv("reason", st.message());
    }
    if (group->empty()) continue;
    // New orders first, then changes: a change in this group can only be of an order that was
    // durable before it was queued, so the order within each kind is all that matters.
    std::vector<commerce::Order> placed;
    std::vector<commerce::Order> changed;
    std::vector<commerce::PaymentRecord> payments;
    // Each item's index in `placed` or `changed`: its verdict's place in the results.
    auto slots = std::make_shared<std::vector<size_t>>();
    slots->reserve(group->size());
    for (auto& item : *group) {
      slots->push_back(item.change ? changed.size() : placed.size());
      if (!item.change) {
        placed.push_back(std::move(item.order));
        continue;
      }
      changed.push_back(std::move(item.order));
      if (item.payment) payments.push_back(std::move(*item.payment));
    }

    const auto started = std::chrono::steady_clock::now();
    auto placed_results = std::make_shared<std::vector<commerce::Committed>>();
    auto changed_results = std::make_shared<std::vector<commerce::Committed>>();
    Status st = placed.empty() ? Status::ok() : store_.commit_orders(placed, *placed_results);
    Status change_st =
        changed.empty() ? Status::ok() : store_.commit_order_changes(changed, payments, *changed_results);
    const auto finished = std::chrono::steady_clock::now();
    auto& m = metrics();
    m.store_group_size.observe(static_cast<double>(group->size()));
    m.store_commit_latency_s.observe(std::chrono::duration<double>(finished - started).count());
    if (!st) log::error("order_commit_failed").kv("orders", placed.size()).kv("reason", st.message());
    if (!change_st)
      log::error("order_change_commit_failed").kv("changes", changed.size()).kv("reason", change_st.message());

    loop_.post([group, slots, placed_results, changed_results, st, change_st] {
      const auto now = std::chrono::steady_clock::now();
      for (size_t i = 0; i < group->size(); ++i) {
        auto& item = (*group)[i];
        metrics().order_ack_latency_s.observe(std::chrono::duration<double>(now - item.queued_at).count());
        // An empty result list: every entry was stored as given.
        const auto& results = item.change ? *changed_results : *placed_results;
        const commerce::Committed verdict = (*slots)[i] < results.size() ? results[(*slots)[i]] : commerce::Committed{};
        item.done(item.change ? change_st : st, verdict);
      }
    });
  }
}

}  // namespace harvest::store
