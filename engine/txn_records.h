#pragma once
// Transaction coordinator state as WAL records on the transaction stream (engine/wal_streams.h),
// written through the same group commit as produced data and replayed in log order
// (docs/wal-format.md gives the byte layout):
//
//   producer id block (type 4) := version u8 (1) | block_end i64
//   txn metadata (type 5)      := version u8 (1) | transactional_id str16 | present u8
//                                 [ producer_id i64 | producer_epoch i16 | timeout_ms i32 | state u8
//                                   | partition_count u32 | (topic str16 | partition i32){count}
//                                   | group_count u32 | group str16{count}
//                                   | start_ms i64 | last_update_ms i64 ]
// state: 0 Empty, 1 Ongoing, 2 PrepareCommit, 3 PrepareAbort, 4 CompleteCommit, 5 CompleteAbort.
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "engine/result.h"
#include "engine/txn_coordinator.h"
#include "engine/wal_streams.h"

namespace engine::txn_records {

inline constexpr uint32_t stream = txn_stream;
inline constexpr uint8_t type_producer_ids = wal_type_producer_ids;
inline constexpr uint8_t type_txn_metadata = wal_type_txn_metadata;
inline constexpr uint8_t version = 1;

std::pair<uint8_t, std::vector<std::byte>> encode(const txn_record& r);
// corrupt_message when the payload is not one whole record of that type.
result<txn_record> decode(uint8_t type, std::span<const std::byte> payload);

}  // namespace engine::txn_records
