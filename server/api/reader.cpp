#include "api/reader.h"

#include "core/log.h"

namespace harvest::api {

Reader::Reader(EventLoop& loop, std::unique_ptr<store::Store> store)
    : loop_(loop), store_(std::move(store)), thread_([this] { run(); }) {}

Reader::~Reader() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    jobs_.clear();
  }
  wake_.notify_one();
  thread_.join();
}

void Reader::enqueue(Job job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void Reader::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job(*store_);
  }
}

realtime::HttpResponse answer_from_reader(Reader& reader,
                                          std::function<realtime::HttpResponse(store::Store&)> work) {
  using realtime::HttpResponse;
  return HttpResponse::later([&reader, work = std::move(work)](realtime::HttpReply reply) {
    reader.read<HttpResponse>(work, reply, [reply](const std::string& what) {
      log::error("http_read_failed").kv("what", what);
      reply(HttpResponse::error(500, "internal", "internal error"));
    });
  });
}

}  // namespace harvest::api
