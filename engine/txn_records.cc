#include "engine/txn_records.h"

#include <type_traits>

#include "engine/byte_codec.h"
#include "engine/errc.h"

namespace engine::txn_records {

std::pair<uint8_t, std::vector<std::byte>> encode(const txn_record& r) {
  codec::writer w;
  w.u8(version);
  if (const auto* b = std::get_if<producer_id_block_record>(&r)) {
    w.u64(static_cast<uint64_t>(b->block_end));
    return {type_producer_ids, std::move(w.out())};
  }
  const auto& m = std::get<txn_metadata_record>(r);
  w.str16(m.transactional_id);
  w.u8(m.value ? 1 : 0);
  if (m.value) {
    const stored_txn& t = *m.value;
    w.u64(static_cast<uint64_t>(t.producer_id));
    w.u16(static_cast<uint16_t>(t.producer_epoch));
    w.u32(static_cast<uint32_t>(t.timeout_ms));
    w.u8(static_cast<uint8_t>(t.state));
    w.u32(static_cast<uint32_t>(t.partitions.size()));
    for (const auto& tp : t.partitions) {
      w.str16(tp.topic);
      w.u32(static_cast<uint32_t>(tp.partition));
    }
    w.u32(static_cast<uint32_t>(t.groups.size()));
    for (const auto& g : t.groups) w.str16(g);
    w.u64(static_cast<uint64_t>(t.start_ms));
    w.u64(static_cast<uint64_t>(t.last_update_ms));
  }
  return {type_txn_metadata, std::move(w.out())};
}

result<txn_record> decode(uint8_t type, std::span<const std::byte> payload) {
  codec::reader r(payload);
  if (r.u8() != version) return fail(errc::corrupt_message);
  txn_record out;
  if (type == type_producer_ids) {
    out = producer_id_block_record{static_cast<int64_t>(r.u64())};
  } else if (type == type_txn_metadata) {
    txn_metadata_record m;
    m.transactional_id = r.str16();
    if (r.u8() != 0) {
      stored_txn t;
      t.producer_id = static_cast<int64_t>(r.u64());
      t.producer_epoch = static_cast<int16_t>(r.u16());
      t.timeout_ms = static_cast<int32_t>(r.u32());
      const uint8_t st = r.u8();
      if (st > static_cast<uint8_t>(txn_state::complete_abort)) return fail(errc::corrupt_message);
      t.state = static_cast<txn_state>(st);
      const uint32_t np = r.u32();
      for (uint32_t i = 0; i < np && r.ok(); ++i) {
        topic_partition tp;
        tp.topic = r.str16();
        tp.partition = static_cast<int32_t>(r.u32());
        t.partitions.push_back(std::move(tp));
      }
      const uint32_t ng = r.u32();
      for (uint32_t i = 0; i < ng && r.ok(); ++i) t.groups.push_back(r.str16());
      t.start_ms = static_cast<int64_t>(r.u64());
      t.last_update_ms = static_cast<int64_t>(r.u64());
      m.value = std::move(t);
    }
    out = std::move(m);
  } else {
    return fail(errc::corrupt_message);
  }
  if (!r.ok() || !r.done()) return fail(errc::corrupt_message);
  return out;
}

}  // namespace engine::txn_records
