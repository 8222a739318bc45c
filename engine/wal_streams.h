#pragma once
// How the engine uses the WAL's stream ids and record types. Topic partitions get stream ids
// counting up from 0 (the topic catalog hands them out and never reuses one); internal streams
// (group state) sit at the top of the range, which the catalog never reaches.
#include <cstdint>

namespace engine {

inline constexpr uint32_t first_internal_stream = 0xffff'ff00;
inline constexpr uint32_t group_stream = 0xffff'fff0;  // engine/group_records.h

// Record types. Stream = the partition's stream id for record batches.
inline constexpr uint8_t wal_type_record_batch = 1;  // payload: one RecordBatch, base offset assigned
inline constexpr uint8_t wal_type_group_metadata = 2;  // group stream, engine/group_records.h
inline constexpr uint8_t wal_type_group_offsets = 3;   // group stream, engine/group_records.h

constexpr bool is_internal_stream(uint32_t s) { return s >= first_internal_stream; }

}  // namespace engine
