#pragma once
// How the engine uses the WAL's stream ids and record types. Topic partitions get stream ids
// counting up from 0 (the topic catalog hands them out and never reuses one); internal streams
// (group state) sit at the top of the range, which the catalog never reaches.
#include <cstdint>

namespace engine {

inline constexpr uint32_t first_internal_stream = 0xffff'ff00;
inline constexpr uint32_t group_stream = 0xffff'fff0;  // engine/group_records.h
inline constexpr uint32_t txn_stream = 0xffff'fff1;    // engine/txn_records.h

// Record types. Stream = the partition's stream id for record batches.
inline constexpr uint8_t wal_type_record_batch = 1;       // payload: one RecordBatch, base offset assigned
inline constexpr uint8_t wal_type_group_metadata = 2;     // group stream, engine/group_records.h
inline constexpr uint8_t wal_type_group_offsets = 3;      // group stream, engine/group_records.h
inline constexpr uint8_t wal_type_producer_ids = 4;       // txn stream, engine/txn_records.h
inline constexpr uint8_t wal_type_txn_metadata = 5;       // txn stream, engine/txn_records.h
inline constexpr uint8_t wal_type_group_txn_offsets = 6;  // group stream: offsets of an open transaction
inline constexpr uint8_t wal_type_group_txn_marker = 7;   // group stream: their commit or abort
// Partition stream: the partition's log start offset moved (DeleteRecords, retention), or is
// restated before the segment holding its last such record is removed. Payload: version u8 (1) |
// log_start_offset i64, little-endian.
inline constexpr uint8_t wal_type_log_start = 8;
// Partition stream: the partition's batches [first, end) follow, copied forward from older
// segments (retention rewriting a segment that one slow partition pins). Replay takes the copies
// in place of everything recovered for the partition so far, but only once the copy reaching
// `end` is found: an interrupted copy leaves the originals in charge. Payload: version u8 (1) |
// log_start_offset i64 | end i64, little-endian.
inline constexpr uint8_t wal_type_relocation = 9;

constexpr bool is_internal_stream(uint32_t s) { return s >= first_internal_stream; }

}  // namespace engine
