// WorkerPool: a fixed set of threads running queued tasks in FIFO order
// (FT.SEARCH executes here so a slow query does not stall the event loop).
//
// Workers can run at a lower CPU priority (a positive Linux nice value, which
// is per thread), so that when every core is busy with searches the event
// loop serving key-value traffic still gets the CPU first.
//
// Thread safety: Submit from any thread. The destructor finishes the running
// tasks, drops the queued ones and joins.
#pragma once

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ragkv::server {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads, int nice = 0) {
    for (size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this, nice] {
        if (nice != 0) {
          // Best effort: without permission the thread keeps the default.
          const auto tid = static_cast<id_t>(syscall(SYS_gettid));
          (void)setpriority(PRIO_PROCESS, tid, nice);
        }
        Loop();
      });
    }
  }
  ~WorkerPool() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      tasks_.clear();
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (stop_) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ragkv::server
