#pragma once

// Produce (key 0), v3-9; v9 flexible.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct produce_request {
  struct partition {
    std::int32_t index = 0;
    // The record batches exactly as the client sent them: a view into the buffer the reader
    // was given, not a copy. The engine takes ownership of that frame buffer and rewrites each
    // batch's baseOffset in place, so the caller must know the underlying memory is mutable and
    // outlives this struct. A null records field decodes as an empty view.
    byte_view records;
    // records.data() - reader.buffer().data(): lets an owner that moved or copied the frame
    // buffer find the batches again.
    std::size_t records_offset = 0;
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
  };

  std::optional<std::string> transactional_id;  // v3+
  std::int16_t acks = -1;
  std::int32_t timeout_ms = 0;
  std::vector<topic> topics;

  static produce_request decode(reader& r, std::int16_t version);
};

struct produce_response {
  struct record_error {
    std::int32_t batch_index = 0;
    std::optional<std::string> batch_index_error_message;
  };
  struct partition {
    std::int32_t index = 0;
    error_code error = error_code::none;
    std::int64_t base_offset = -1;
    std::int64_t log_append_time_ms = -1;      // v2+
    std::int64_t log_start_offset = -1;        // v5+
    std::vector<record_error> record_errors;   // v8+
    std::optional<std::string> error_message;  // v8+
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
  };

  std::vector<topic> topics;
  std::int32_t throttle_time_ms = 0;  // v1+

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
