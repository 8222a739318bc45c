// libFuzzer target for the topic catalog (engine/topic_catalog.cc): the slot-file decoder, the
// choice between the two slots at load, and what the engine builds from a catalog it loaded.
//
// Input: byte 0 is a set of flags, the rest is slot file topics.0, or topics.0 and topics.1
// split where the second "KAIROTOP" magic begins.
//   0x01  repair: body_length := the bytes after the header, CRC-32C recomputed over the body,
//         in every slot, so mutations of the body reach the field decoder
//   0x02  two slots: the second slot file is topics.1 (else the whole rest is topics.0)
//   0x04  engine: log_manager::open over the slots (empty WAL), which turns every topic of the
//         chosen catalog into partition logs
//
// Beyond not crashing: a decoded catalog re-encodes to bytes that decode to the same catalog,
// no larger than the input; load_catalog returns the valid slot with the higher generation (or
// an empty catalog when none is valid and at most one exists, storage_error when both exist and
// neither is valid); the engine, when it opens, lists the topics of the loaded catalog with their
// partition counts and keeps its broker configs. A version 1 slot (no broker configs) decodes
// with none and re-encodes as version 2.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "engine/broker.h"
#include "engine/errc.h"
#include "engine/topic_catalog.h"
#include "tests/fuzz/fuzz_fixtures.h"
#include "tests/support/mem_file_system.h"
#include "util/crc32c.h"
#include "util/endian.h"

namespace {

namespace C = engine::catalog_format;
using bytes = std::vector<std::byte>;

void repair(bytes& slot) {
  if (slot.size() < C::header_size) return;
  const size_t body = slot.size() - C::header_size;
  util::le::put_u32(slot.data() + 12, static_cast<uint32_t>(body));
  util::le::put_u32(slot.data() + 16, util::crc32c::value(slot.data() + C::header_size, body));
}

std::optional<engine::topic_catalog> decode_checked(const bytes& slot) {
  auto c = engine::decode_catalog(slot);
  if (!c) {
    if (c.error() != engine::errc::corrupt_message) std::abort();
    return std::nullopt;
  }
  const auto again = engine::encode_catalog(*c);
  // Config keys are a map: duplicates in the input collapse, so the encoding can only shrink;
  // except that a version 1 slot is written back as version 2, with its two (empty) broker
  // config sets: a u32 count each.
  const bool v1 = util::le::get_u32(slot.data() + 8) == C::version_without_broker_configs;
  if (again.size() > slot.size() + (v1 ? 8 : 0)) std::abort();
  auto round = engine::decode_catalog(again);
  if (!round || *round != *c) std::abort();
  return std::move(*c);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // load logs every slot it ignores
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const auto* in = reinterpret_cast<const std::byte*>(data) + 1;
  const size_t n = size - 1;

  std::vector<bytes> slots;
  size_t split = n;
  if (flags & 0x02)
    for (size_t i = 1; i + sizeof C::magic <= n; ++i)
      if (std::memcmp(in + i, C::magic, sizeof C::magic) == 0) {
        split = i;
        break;
      }
  slots.emplace_back(in, in + split);
  if (flags & 0x02) slots.emplace_back(in + split, in + n);
  if (flags & 0x01)
    for (auto& s : slots) repair(s);

  std::vector<std::optional<engine::topic_catalog>> decoded;
  for (auto& s : slots) decoded.push_back(decode_checked(s));

  auto fs = std::make_shared<wal::mem_file_system>();
  const std::string& dir = kairo_fuzz::data_dir;
  for (size_t i = 0; i < slots.size(); ++i) fs->set_contents(dir + "/" + std::string(C::slot_names[i]), slots[i]);

  // load_catalog's choice, restated: the valid slot with the highest generation (the first on a tie).
  std::optional<engine::topic_catalog> best;
  for (auto& d : decoded)
    if (d && (!best || d->generation > best->generation)) best = d;
  auto loaded = engine::load_catalog(*fs, dir);
  if (!best && slots.size() == 2) {
    if (loaded || loaded.error() != engine::errc::storage_error) std::abort();
    return 0;
  }
  if (!loaded || *loaded != (best ? *best : engine::topic_catalog{})) std::abort();

  if (flags & 0x04) {
    engine::config cfg;
    cfg.data_dir = dir;
    cfg.now_ms = [] { return int64_t{1'700'000'000'000}; };
    auto opened = engine::log_manager::open(cfg, fs);
    if (!opened) {
      if (opened.error() != engine::errc::storage_error) std::abort();
      return 0;
    }
    // The broker configs changed live are the catalog's.
    const auto live = (*opened)->broker_configs();
    if (live.broker != loaded->broker_configs || live.cluster_default != loaded->cluster_configs) std::abort();
    // Every topic of the catalog is listed once, sorted by name, with its partition count.
    // A name given twice is the first record's (the engine's table is keyed by name).
    std::map<std::string, size_t> partitions;
    for (auto& t : loaded->topics) partitions.emplace(t.name, t.streams.size());
    const auto listed = (*opened)->list_topics();
    if (listed.size() != partitions.size()) std::abort();
    for (size_t i = 0; i < listed.size(); ++i) {
      if (i > 0 && !(listed[i - 1].name < listed[i].name)) std::abort();
      auto it = partitions.find(listed[i].name);
      if (it == partitions.end() || static_cast<size_t>(listed[i].partitions) != it->second) std::abort();
    }
  }
  return 0;
}
