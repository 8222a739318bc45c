#pragma once
// Errors the engine reports to the server. Handlers turn each into a Kafka error code through
// one mapping function; nothing here knows Kafka's numbers.
#include <system_error>

namespace engine {

enum class errc {
  ok = 0,
  unknown_topic_or_partition,
  topic_already_exists,
  invalid_topic,
  invalid_partitions,
  corrupt_message,        // a batch failed validation (magic, lengths, count, crc)
  unsupported_format,     // a batch with a magic other than 2
  message_too_large,
  offset_out_of_range,
  storage_error,          // the WAL failed (sticky) or a file could not be read
  busy,                   // the WAL queue is at its byte bound
  shutting_down,
};

const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace engine

template <>
struct std::is_error_code_enum<engine::errc> : std::true_type {};
