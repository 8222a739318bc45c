#include "engine/group_records.h"

#include <type_traits>

#include "engine/byte_codec.h"
#include "engine/errc.h"

namespace engine::group_records {
namespace {

void opt16(codec::writer& w, const std::optional<std::string>& s) {
  w.u8(s ? 1 : 0);
  if (s) w.str16(*s);
}
void opt32(codec::writer& w, const std::optional<std::string>& s) {
  w.u8(s ? 1 : 0);
  if (s) w.str32(*s);
}
std::optional<std::string> opt16(codec::reader& r) {
  if (r.u8() == 0) return std::nullopt;
  return r.str16();
}
std::optional<std::string> opt32(codec::reader& r) {
  if (r.u8() == 0) return std::nullopt;
  return r.str32();
}

void encode_group(codec::writer& w, const group_metadata_record& rec) {
  w.str16(rec.group_id);
  w.u8(rec.value ? 1 : 0);
  if (!rec.value) return;
  const stored_group& g = *rec.value;
  w.str16(g.protocol_type);
  w.u32(static_cast<uint32_t>(g.generation));
  opt16(w, g.protocol_name);
  opt16(w, g.leader);
  w.u64(static_cast<uint64_t>(g.state_timestamp_ms));
  w.u32(static_cast<uint32_t>(g.members.size()));
  for (const auto& m : g.members) {
    w.str16(m.member_id);
    opt16(w, m.group_instance_id);
    w.str16(m.client_id);
    w.str16(m.client_host);
    w.u32(static_cast<uint32_t>(m.rebalance_timeout_ms));
    w.u32(static_cast<uint32_t>(m.session_timeout_ms));
    w.blob32(m.subscription);
    w.blob32(m.assignment);
  }
}

void encode_offsets(codec::writer& w, const offsets_record& rec) {
  w.str16(rec.group_id);
  w.u32(static_cast<uint32_t>(rec.offsets.size()));
  for (const auto& [tp, off] : rec.offsets) {
    w.str16(tp.topic);
    w.u32(static_cast<uint32_t>(tp.partition));
    w.u8(off ? 1 : 0);
    if (!off) continue;
    w.u64(static_cast<uint64_t>(off->offset));
    w.u32(static_cast<uint32_t>(off->leader_epoch));
    opt32(w, off->metadata);
    w.u64(static_cast<uint64_t>(off->commit_timestamp_ms));
    w.u8(off->expire_timestamp_ms ? 1 : 0);
    if (off->expire_timestamp_ms) w.u64(static_cast<uint64_t>(*off->expire_timestamp_ms));
  }
}

group_metadata_record decode_group(codec::reader& r) {
  group_metadata_record rec;
  rec.group_id = r.str16();
  if (r.u8() == 0) return rec;
  stored_group g;
  g.protocol_type = r.str16();
  g.generation = static_cast<int32_t>(r.u32());
  g.protocol_name = opt16(r);
  g.leader = opt16(r);
  g.state_timestamp_ms = static_cast<int64_t>(r.u64());
  const uint32_t n = r.u32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    stored_member m;
    m.member_id = r.str16();
    m.group_instance_id = opt16(r);
    m.client_id = r.str16();
    m.client_host = r.str16();
    m.rebalance_timeout_ms = static_cast<int32_t>(r.u32());
    m.session_timeout_ms = static_cast<int32_t>(r.u32());
    m.subscription = r.blob32();
    m.assignment = r.blob32();
    g.members.push_back(std::move(m));
  }
  rec.value = std::move(g);
  return rec;
}

offsets_record decode_offsets(codec::reader& r) {
  offsets_record rec;
  rec.group_id = r.str16();
  const uint32_t n = r.u32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    topic_partition tp;
    tp.topic = r.str16();
    tp.partition = static_cast<int32_t>(r.u32());
    if (r.u8() == 0) {
      rec.offsets.emplace_back(std::move(tp), std::nullopt);
      continue;
    }
    committed_offset off;
    off.offset = static_cast<int64_t>(r.u64());
    off.leader_epoch = static_cast<int32_t>(r.u32());
    off.metadata = opt32(r);
    off.commit_timestamp_ms = static_cast<int64_t>(r.u64());
    if (r.u8() != 0) off.expire_timestamp_ms = static_cast<int64_t>(r.u64());
    rec.offsets.emplace_back(std::move(tp), std::move(off));
  }
  return rec;
}

void encode_txn_offsets(codec::writer& w, const txn_offsets_record& rec) {
  w.str16(rec.group_id);
  w.u64(static_cast<uint64_t>(rec.producer_id));
  w.u32(static_cast<uint32_t>(rec.offsets.size()));
  for (const auto& [tp, off] : rec.offsets) {
    w.str16(tp.topic);
    w.u32(static_cast<uint32_t>(tp.partition));
    w.u64(static_cast<uint64_t>(off.offset));
    w.u32(static_cast<uint32_t>(off.leader_epoch));
    opt32(w, off.metadata);
    w.u64(static_cast<uint64_t>(off.commit_timestamp_ms));
  }
}

txn_offsets_record decode_txn_offsets(codec::reader& r) {
  txn_offsets_record rec;
  rec.group_id = r.str16();
  rec.producer_id = static_cast<int64_t>(r.u64());
  const uint32_t n = r.u32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    topic_partition tp;
    tp.topic = r.str16();
    tp.partition = static_cast<int32_t>(r.u32());
    committed_offset off;
    off.offset = static_cast<int64_t>(r.u64());
    off.leader_epoch = static_cast<int32_t>(r.u32());
    off.metadata = opt32(r);
    off.commit_timestamp_ms = static_cast<int64_t>(r.u64());
    rec.offsets.emplace_back(std::move(tp), std::move(off));
  }
  return rec;
}

}  // namespace

std::pair<uint8_t, std::vector<std::byte>> encode(const group_record& r) {
  codec::writer w;
  w.u8(version);
  uint8_t type = 0;
  std::visit(
      [&](const auto& rec) {
        using T = std::decay_t<decltype(rec)>;
        if constexpr (std::is_same_v<T, group_metadata_record>) {
          type = type_group_metadata;
          encode_group(w, rec);
        } else if constexpr (std::is_same_v<T, offsets_record>) {
          type = type_offsets;
          encode_offsets(w, rec);
        } else if constexpr (std::is_same_v<T, txn_offsets_record>) {
          type = type_txn_offsets;
          encode_txn_offsets(w, rec);
        } else {
          type = type_txn_marker;
          w.str16(rec.group_id);
          w.u64(static_cast<uint64_t>(rec.producer_id));
          w.u8(rec.commit ? 1 : 0);
        }
      },
      r);
  return {type, std::move(w.out())};
}

result<group_record> decode(uint8_t type, std::span<const std::byte> payload) {
  codec::reader r(payload);
  if (r.u8() != version) return fail(errc::corrupt_message);
  group_record out;
  if (type == type_group_metadata) {
    out = decode_group(r);
  } else if (type == type_offsets) {
    out = decode_offsets(r);
  } else if (type == type_txn_offsets) {
    out = decode_txn_offsets(r);
  } else if (type == type_txn_marker) {
    txn_marker_record m;
    m.group_id = r.str16();
    m.producer_id = static_cast<int64_t>(r.u64());
    m.commit = r.u8() != 0;
    out = std::move(m);
  } else {
    return fail(errc::corrupt_message);
  }
  if (!r.ok() || !r.done()) return fail(errc::corrupt_message);
  return out;
}

}  // namespace engine::group_records
