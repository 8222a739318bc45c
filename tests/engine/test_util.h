#pragma once
// Helpers for the engine tests: temp directories, blocking produce, collecting fetched records.
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "engine/broker.h"
#include "tests/engine/batch_builder.h"

namespace engine::test {

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kairo-engine-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// What a produce call saw: the result and the bytes as the engine left them (offsets rewritten).
struct produce_outcome {
  result<produce_result> r;
  std::vector<std::byte> bytes;
};

// Produces and blocks until the callback ran.
inline produce_outcome produce_sync(log_manager& m, const std::string& topic, int32_t partition,
                                    std::vector<std::byte> bytes) {
  auto buf = std::make_shared<std::vector<std::byte>>(std::move(bytes));
  std::promise<result<produce_result>> p;
  auto f = p.get_future();
  m.produce(topic, partition, buf, *buf, [&p](const result<produce_result>& r) { p.set_value(r); });
  auto r = f.get();
  return {r, *buf};
}

inline std::vector<std::byte> concat(const std::vector<std::vector<std::byte>>& parts) {
  std::vector<std::byte> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Every record from `offset` to the high watermark, fetching as a consumer would.
inline std::vector<decoded_record> fetch_all(const log_manager& m, const std::string& topic, int32_t partition,
                                             int64_t offset = 0, size_t max_bytes = 1 << 20) {
  std::vector<decoded_record> out;
  for (;;) {
    auto f = m.fetch(topic, partition, offset, max_bytes);
    if (!f) throw std::runtime_error("fetch failed: " + f.error().message());
    if (f->batches.empty()) return out;
    for (auto& rec : decode_all(concat(f->batches)))
      if (rec.offset >= offset) out.push_back(rec);
    offset = out.empty() ? offset : out.back().offset + 1;
    if (offset >= f->high_watermark) return out;
  }
}

inline config mem_config() {
  config c;
  c.data_dir = "/data";
  return c;
}

}  // namespace engine::test
