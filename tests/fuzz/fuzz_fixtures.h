#pragma once
// What the fuzz harnesses and the seed generator (make_fuzz_seeds.cc) must agree on: the topic
// catalog the engine-level WAL replay runs against (its stream ids are the ones the WAL seeds
// write to), and the data directory layout in the in-memory file system.
#include <string>

#include "engine/topic_catalog.h"

namespace kairo_fuzz {

inline const std::string data_dir = "/data";
inline const std::string wal_dir = "/data/wal";

// Two topics: "orders" with partitions on streams 0-2, "events" with one partition on stream 3.
// Stream 9 is a deleted topic's (beyond the counter: replay must move the counter past it).
inline engine::topic_catalog fixture_catalog() {
  engine::topic_catalog c;
  c.generation = 1;
  c.next_stream = 4;
  c.topics.push_back(
      {"orders", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, {0, 1, 2}, {{"cleanup.policy", "delete"}}});
  c.topics.push_back({"events", {0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {3}, {}});
  return c;
}

// The slot the fixture lives in: generation g is stored in slot g % 2.
inline std::string fixture_catalog_path() {
  return data_dir + "/" + std::string(engine::catalog_format::slot_names[fixture_catalog().generation % 2]);
}

}  // namespace kairo_fuzz
