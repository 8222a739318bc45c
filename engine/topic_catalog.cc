#include "engine/topic_catalog.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>

#include "engine/byte_codec.h"
#include "engine/errc.h"
#include "engine/logger.h"
#include "util/crc32c.h"
#include "util/endian.h"

namespace engine {
namespace {

namespace F = catalog_format;

using codec::reader;
using codec::writer;

std::string slot_path(const std::string& dir, int slot) { return dir + "/" + std::string(F::slot_names[slot]); }

void put_configs(writer& w, const topic_configs& configs) {
  w.u32(static_cast<uint32_t>(configs.size()));
  for (const auto& [k, v] : configs) {
    w.str16(k);
    w.str32(v);
  }
}

topic_configs get_configs(reader& r) {
  topic_configs out;
  const uint32_t n = r.u32();
  for (uint32_t j = 0; j < n && r.ok(); ++j) {
    std::string k = r.str(r.u16());
    std::string v = r.str(r.u32());
    out.emplace(std::move(k), std::move(v));
  }
  return out;
}

}  // namespace

std::vector<std::byte> encode_catalog(const topic_catalog& c) {
  writer w;
  w.bytes(F::magic, sizeof F::magic);
  w.u32(F::version);
  w.u32(0);  // body length, filled below
  w.u32(0);  // crc, filled below
  w.u64(c.generation);
  w.u32(c.next_stream);
  w.u32(static_cast<uint32_t>(c.topics.size()));
  for (const auto& t : c.topics) {
    w.str16(t.name);
    w.bytes(t.id.data(), t.id.size());
    w.u32(static_cast<uint32_t>(t.streams.size()));
    for (uint32_t s : t.streams) w.u32(s);
    put_configs(w, t.configs);
  }
  put_configs(w, c.broker_configs);
  put_configs(w, c.cluster_configs);
  auto& out = w.out();
  const size_t body = out.size() - F::header_size;
  util::le::put_u32(out.data() + 12, static_cast<uint32_t>(body));
  util::le::put_u32(out.data() + 16, util::crc32c::value(out.data() + F::header_size, body));
  return std::move(out);
}

result<topic_catalog> decode_catalog(std::span<const std::byte> bytes) {
  if (bytes.size() < F::header_size || std::memcmp(bytes.data(), F::magic, sizeof F::magic) != 0)
    return fail(errc::corrupt_message);
  const uint32_t version = util::le::get_u32(bytes.data() + 8);
  if (version != F::version && version != F::version_without_broker_configs) return fail(errc::corrupt_message);
  const uint32_t body = util::le::get_u32(bytes.data() + 12);
  if (body != bytes.size() - F::header_size) return fail(errc::corrupt_message);
  if (util::crc32c::value(bytes.data() + F::header_size, body) != util::le::get_u32(bytes.data() + 16))
    return fail(errc::corrupt_message);

  reader r(bytes.subspan(F::header_size));
  topic_catalog c;
  c.generation = r.u64();
  c.next_stream = r.u32();
  const uint32_t topics = r.u32();
  for (uint32_t i = 0; i < topics && r.ok(); ++i) {
    topic_record t;
    t.name = r.str(r.u16());
    if (auto p = r.take(t.id.size())) std::memcpy(t.id.data(), p, t.id.size());
    const uint32_t partitions = r.u32();
    for (uint32_t j = 0; j < partitions && r.ok(); ++j) t.streams.push_back(r.u32());
    t.configs = get_configs(r);
    c.topics.push_back(std::move(t));
  }
  if (version == F::version && r.ok()) {
    c.broker_configs = get_configs(r);
    c.cluster_configs = get_configs(r);
  }
  if (!r.ok() || !r.done()) return fail(errc::corrupt_message);
  return c;
}

result<topic_catalog> load_catalog(wal::file_system& fs, const std::string& dir) {
  auto storage_error = [](const util::error& e) { return fail(errc::storage_error, "topic metadata: " + e.message()); };
  auto names = fs.list(dir);
  if (!names) return storage_error(names.error());
  std::optional<topic_catalog> best;
  int present = 0;
  for (int slot = 0; slot < 2; ++slot) {
    if (std::find(names->begin(), names->end(), F::slot_names[slot]) == names->end()) continue;
    ++present;
    const std::string path = slot_path(dir, slot);
    auto file = fs.open_readable(path);
    if (!file) return storage_error(file.error());
    auto size = (*file)->size();
    if (!size) return storage_error(size.error());
    std::vector<std::byte> bytes(*size);
    auto got = (*file)->read_at(0, bytes);
    if (!got) return storage_error(got.error());
    bytes.resize(*got);
    auto c = decode_catalog(bytes);
    if (!c) {
      // The slot a crash interrupted mid-save; the other slot holds the state before it.
      log().warn("ignoring topic metadata slot {} ({} bytes): incomplete or corrupt", path, bytes.size());
      continue;
    }
    if (!best || c->generation > best->generation) best = std::move(*c);
  }
  if (!best && present == 2)
    return fail(errc::storage_error,
                "both topic metadata files in " + dir + " are corrupt; refusing to start without knowing the topics");
  return best ? std::move(*best) : topic_catalog{};
}

result<void> save_catalog(wal::file_system& fs, const std::string& dir, topic_catalog& c) {
  topic_catalog next = c;
  ++next.generation;
  const std::string path = slot_path(dir, static_cast<int>(next.generation % 2));
  const auto bytes = encode_catalog(next);
  auto failed = [&](const char* step, const util::error& e) {
    log().error("saving topic metadata to {} failed at {}: {}", path, step, e.message());
    return fail(errc::storage_error, "saving topic metadata failed at " + std::string(step) + ": " + e.message());
  };
  auto names = fs.list(dir);
  if (!names) return failed("list", names.error());
  if (std::find(names->begin(), names->end(), F::slot_names[next.generation % 2]) != names->end())
    if (auto r = fs.remove(path); !r) return failed("remove", r.error());
  auto file = fs.open_writable(path);
  if (!file) return failed("create", file.error());
  if (auto r = (*file)->append(bytes); !r) return failed("write", r.error());
  if (auto r = (*file)->sync(); !r) return failed("fdatasync", r.error());
  if (auto r = (*file)->close(); !r) return failed("close", r.error());
  if (auto r = fs.sync_dir(dir); !r) return failed("directory fsync", r.error());
  c.generation = next.generation;
  return {};
}

bool valid_topic_name(std::string_view name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
           ch == '-';
  });
}

topic_id make_topic_id() {
  static std::mutex mu;
  static std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seed{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seed);
  }();
  topic_id id{};
  std::lock_guard lock(mu);
  do {
    for (size_t i = 0; i < id.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(id.data() + i, &v, 8);
    }
  } while (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; }));
  return id;
}

}  // namespace engine
