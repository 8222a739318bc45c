#pragma once
// CRC-32C (Castagnoli), the checksum Kafka's RecordBatch v2 and the WAL's framing both use.
// Thread-safe, no state. Uses the SSE4.2 crc32 instruction when the CPU has it and a
// slicing-by-8 table otherwise; both are checked against the same published vectors.
#include <cstddef>
#include <cstdint>

namespace util::crc32c {

// Extends `crc` (the value returned for the preceding bytes, 0 to start) over [data, data+n).
uint32_t extend(uint32_t crc, const void* data, size_t n) noexcept;
inline uint32_t value(const void* data, size_t n) noexcept { return extend(0, data, n); }

// The two implementations, exposed so tests can check each against the vectors.
uint32_t extend_portable(uint32_t crc, const void* data, size_t n) noexcept;
uint32_t extend_hardware(uint32_t crc, const void* data, size_t n) noexcept;  // REQUIRES: hardware_available()
bool hardware_available() noexcept;

}  // namespace util::crc32c
