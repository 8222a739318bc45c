// libFuzzer target for RecordBatch validation, which runs on untrusted producer bytes before the
// engine rewrites offsets through them. Beyond not crashing: an accepted set must tile the input
// exactly, and framing-only splitting must agree with it.
//
// Build: clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I<repo>
//        tests/fuzz/record_batch_fuzz.cc engine/record_batch.cc engine/errc.cc wal/crc32c.cc
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "engine/record_batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  std::string why;
  auto batches = engine::validate_batches(in, &why);
  if (!batches) {
    if (why.empty()) std::abort();  // every refusal says why
    return 0;
  }
  size_t at = 0;
  for (const auto& b : *batches) {
    if (b.offset != at || b.header.magic != 2 || b.header.record_count < 0) std::abort();
    at += b.size();
  }
  if (at != size) std::abort();
  auto split = engine::split_batches(in);
  if (!split || split->size() != batches->size()) std::abort();
  return 0;
}
