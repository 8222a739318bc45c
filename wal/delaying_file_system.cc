#include "wal/delaying_file_system.h"

#include <thread>

namespace wal {

class delaying_file_system::delayed_file final : public writable_file {
 public:
  delayed_file(std::unique_ptr<writable_file> base, delaying_file_system& fs) : base_(std::move(base)), fs_(fs) {}

  result<void> append(std::span<const std::byte> data) override { return base_->append(data); }
  result<void> write_at(uint64_t offset, std::span<const std::byte> data) override {
    return base_->write_at(offset, data);
  }
  result<void> sync() override {
    auto r = base_->sync();
    if (r) fs_.after_sync();  // a failed sync is reported at once, as the disk reported it
    return r;
  }
  result<void> close() override { return base_->close(); }
  uint64_t size() const override { return base_->size(); }

 private:
  const std::unique_ptr<writable_file> base_;
  delaying_file_system& fs_;  // outlives its files: the log holds both and closes files first
};

delaying_file_system::delaying_file_system(std::shared_ptr<file_system> base, simulated_sync_delay delay)
    : base_(std::move(base)), delay_(delay) {}

void delaying_file_system::set_delay(const simulated_sync_delay& d) {
  std::lock_guard lock(mu_);
  delay_ = d;
}

simulated_sync_delay delaying_file_system::delay() const {
  std::lock_guard lock(mu_);
  return delay_;
}

std::chrono::nanoseconds delaying_file_system::added() const {
  std::lock_guard lock(mu_);
  return added_;
}

result<std::unique_ptr<writable_file>> delaying_file_system::open_writable(const std::string& path) {
  auto f = base_->open_writable(path);
  if (!f) return fail(f.error());
  return std::unique_ptr<writable_file>(new delayed_file(std::move(*f), *this));
}

void delaying_file_system::after_sync() {
  std::chrono::nanoseconds d{0};
  {
    std::lock_guard lock(mu_);
    if (!delay_.enabled()) return;
    d = delay_.mean;
    if (delay_.jitter > 0) {
      std::uniform_real_distribution<double> u(1.0 - delay_.jitter, 1.0 + delay_.jitter);
      d = std::chrono::nanoseconds{static_cast<int64_t>(static_cast<double>(delay_.mean.count()) * u(rng_))};
    }
    added_ += d;
  }
  std::this_thread::sleep_for(d);
}

}  // namespace wal
