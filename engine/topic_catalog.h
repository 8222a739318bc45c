#pragma once
// The durable list of topics: names, partition counts, topic ids, configs and the WAL stream of
// every partition, and the broker configs changed live. Small, rewritten whole on every change.
//
// Atomic replacement without rename (wal::file_system has none): two slot files, "topics.0" and
// "topics.1". Generation g lives in slot g % 2, so a save always overwrites the OLDER slot and
// the current state is never touched: a crash mid-save leaves a torn slot that fails its CRC,
// and load picks the valid slot with the highest generation.
//
// Slot file layout (little-endian, like the WAL):
//   magic[8] "KAIROTOP" | version u32 (2) | body_length u32 | crc32c u32 (of body) | body
//   body  := generation u64 | next_stream u32 | topic_count u32 | topic{topic_count}
//            | configs (this broker's) | configs (the cluster default's)      (version 2 only)
//   topic := name str16 | id[16] | partition_count u32 | stream u32{partition_count} | configs
//   configs := config_count u32 | (key str16 | value str32){config_count}
//   str16 := length u16 | bytes ; str32 := length u32 | bytes
// Version 1 (before broker configs were kept) is read as having none; saves write version 2.
//
// Not thread-safe: the owner serialises load/save (log_manager does so under its admin mutex).
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "wal/file_system.h"

namespace engine {

using topic_id = std::array<uint8_t, 16>;
using topic_configs = std::map<std::string, std::string>;

struct topic_record {
  std::string name;
  topic_id id{};
  std::vector<uint32_t> streams;  // partition i -> WAL stream id
  topic_configs configs;
  friend bool operator==(const topic_record&, const topic_record&) = default;
};

struct topic_catalog {
  uint64_t generation = 0;   // 0: nothing saved yet
  uint32_t next_stream = 0;  // stream ids are never reused, even after a delete
  std::vector<topic_record> topics;
  // Broker configs changed while running (AlterConfigs on the broker resource), kept so that a
  // restart keeps them: for this broker ("0") and for the cluster default (""). Opaque here.
  topic_configs broker_configs;
  topic_configs cluster_configs;
  friend bool operator==(const topic_catalog&, const topic_catalog&) = default;
};

namespace catalog_format {
inline constexpr char magic[8] = {'K', 'A', 'I', 'R', 'O', 'T', 'O', 'P'};
inline constexpr uint32_t version = 2;
inline constexpr uint32_t version_without_broker_configs = 1;
inline constexpr size_t header_size = 20;
inline constexpr std::string_view slot_names[2] = {"topics.0", "topics.1"};
}  // namespace catalog_format

std::vector<std::byte> encode_catalog(const topic_catalog& c);
// Fails with corrupt_message when the bytes are not one whole, CRC-clean slot file.
result<topic_catalog> decode_catalog(std::span<const std::byte> bytes);

// Loads the newest valid slot from `dir`; an empty catalog when there is none. Fails with
// storage_error (and logs why) when both slots exist and neither is valid, or on I/O errors.
result<topic_catalog> load_catalog(wal::file_system& fs, const std::string& dir);

// Bumps c.generation and writes it durably into the older slot (remove, create, write, fsync,
// fsync dir). On failure the previous generation is still the one load_catalog returns, and
// c.generation is left unchanged.
result<void> save_catalog(wal::file_system& fs, const std::string& dir, topic_catalog& c);

// Kafka's topic name rule: 1 to 249 characters of [a-zA-Z0-9._-], and not "." or "..".
bool valid_topic_name(std::string_view name);

// A random, non-zero topic id (Kafka treats the all-zero UUID as "no id").
topic_id make_topic_id();

}  // namespace engine
