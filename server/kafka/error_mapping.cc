#include "server/kafka/error_mapping.h"

#include "engine/errc.h"
#include "wal/errc.h"

namespace server::kafka {

using protocol::error_code;

protocol::error_code map_data_error(std::error_code ec) {
  if (!ec) return error_code::none;
  if (ec.category() == engine::error_category()) {
    switch (static_cast<engine::errc>(ec.value())) {
      case engine::errc::ok: return error_code::none;
      case engine::errc::unknown_topic_or_partition: return error_code::unknown_topic_or_partition;
      case engine::errc::invalid_topic: return error_code::invalid_topic_exception;
      case engine::errc::corrupt_message: return error_code::corrupt_message;
      case engine::errc::unsupported_format: return error_code::unsupported_for_message_format;
      case engine::errc::message_too_large: return error_code::message_too_large;
      case engine::errc::offset_out_of_range: return error_code::offset_out_of_range;
      case engine::errc::storage_error: return error_code::kafka_storage_error;
      // A full queue or a closing broker: retriable answers that make clients back off and retry.
      case engine::errc::busy: return error_code::request_timed_out;
      case engine::errc::shutting_down: return error_code::not_leader_or_follower;
      case engine::errc::topic_already_exists: return error_code::topic_already_exists;
      case engine::errc::invalid_partitions: return error_code::invalid_partitions;
    }
  }
  if (ec.category() == wal::error_category()) return error_code::kafka_storage_error;
  return error_code::unknown_server_error;
}

protocol::error_code map_admin_error(std::error_code ec) {
  // Admin answers use the same vocabulary; kept separate so that the two can diverge (e.g. a
  // storage error while writing the catalog) without touching the data path.
  return map_data_error(ec);
}

}  // namespace server::kafka
