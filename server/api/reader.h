#pragma once
// The REST API's reader thread. Reads that can be large (a stream's orders, the report's
// orders, the replays on disk) run here, with a read-only store handle of its own, and their
// results come back to the loop thread, which answers the request (HttpResponse::later). So
// the loop never waits for SQLite or the disk to read a long list.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "core/event_loop.h"
#include "realtime/http_types.h"
#include "store/store.h"

namespace harvest::api {

class Reader {
public:
  // `store`: the reader's own handle (StoreOptions::read_only), used on the reader thread only.
  Reader(EventLoop& loop, std::unique_ptr<store::Store> store);
  // Finishes the read in hand and drops the queued ones (their `done` never runs).
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Any thread. `work` runs on the reader thread; `done` gets its result on the loop thread,
  // or `failed` the exception's text if `work` threw.
  template <typename T>
  void read(std::function<T(store::Store&)> work, std::function<void(T)> done,
            std::function<void(const std::string&)> failed) {
    enqueue(
        [this, work = std::move(work), done = std::move(done), failed = std::move(failed)](store::Store& s) {
          try {
            auto result = std::make_shared<T>(work(s));
            loop_.post([result, done] { done(std::move(*result)); });
          } catch (const std::exception& e) {
            loop_.post([failed, what = std::string(e.what())] { failed(what); });
          }
        });
  }

private:
  using Job = std::function<void(store::Store&)>;
  void enqueue(Job job);
  void run();

  EventLoop& loop_;
  std::unique_ptr<store::Store> store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

// A route's answer made on the reader thread: the request is answered when `work` returns
// (500 if it threw). `work` must not touch loop-thread state: copy what it needs into it.
realtime::HttpResponse answer_from_reader(Reader& reader,
                                          std::function<realtime::HttpResponse(store::Store&)> work);

}  // namespace harvest::api
