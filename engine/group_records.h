#pragma once
// Group state as WAL records. The coordinator's durable state travels through the same
// write-ahead log as produced data, on one internal stream, so a commit is answered after the
// same kind of fdatasync as a produce and is replayed at start in log order (docs/wal-format.md
// gives the byte layout).
//
//   group metadata (type 2) := version u8 (1) | group_id str16 | present u8
//                              [ protocol_type str16 | generation i32 | protocol_name opt16
//                                | leader opt16 | state_timestamp_ms i64 | count u32 | member{count} ]
//   member                  := member_id str16 | instance_id opt16 | client_id str16
//                              | client_host str16 | rebalance_timeout_ms i32 | session_timeout_ms i32
//                              | subscription blob32 | assignment blob32
//   offsets (type 3)        := version u8 (1) | group_id str16 | count u32 | entry{count}
//   entry                   := topic str16 | partition i32 | present u8
//                              [ offset i64 | leader_epoch i32 | metadata opt32
//                                | commit_timestamp_ms i64 | has_expire u8 [ expire_timestamp_ms i64 ] ]
//   txn offsets (type 6)    := version u8 (1) | group_id str16 | producer_id i64 | count u32
//                              | (topic str16 | partition i32 | offset i64 | leader_epoch i32
//                                 | metadata opt32 | commit_timestamp_ms i64){count}
//   txn marker (type 7)     := version u8 (1) | group_id str16 | producer_id i64 | commit u8
//   opt16 / opt32           := present u8 [ str16 / str32 ]
// Little-endian like the rest of the WAL. A metadata record without a value removes the group and
// every offset it committed; an entry without a value removes that partition's offset.
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "engine/group_types.h"
#include "engine/result.h"
#include "engine/wal_streams.h"

namespace engine::group_records {

// The WAL stream and record types (engine/wal_streams.h).
inline constexpr uint32_t stream = group_stream;
inline constexpr uint8_t type_group_metadata = wal_type_group_metadata;
inline constexpr uint8_t type_offsets = wal_type_group_offsets;
inline constexpr uint8_t type_txn_offsets = wal_type_group_txn_offsets;
inline constexpr uint8_t type_txn_marker = wal_type_group_txn_marker;
inline constexpr uint8_t version = 1;

// The WAL record type and payload of a record.
std::pair<uint8_t, std::vector<std::byte>> encode(const group_record& r);
// corrupt_message when the payload is not one whole record of that type.
result<group_record> decode(uint8_t type, std::span<const std::byte> payload);

}  // namespace engine::group_records
