#include "server/kafka/error_mapping.h"

#include "engine/errc.h"

namespace server::kafka {
namespace {

using protocol::error_code;

error_code kafka_code(engine::errc e) {
  switch (e) {
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
    case engine::errc::invalid_group_id: return error_code::invalid_group_id;
    case engine::errc::unknown_member_id: return error_code::unknown_member_id;
    case engine::errc::illegal_generation: return error_code::illegal_generation;
    case engine::errc::rebalance_in_progress: return error_code::rebalance_in_progress;
    case engine::errc::inconsistent_group_protocol: return error_code::inconsistent_group_protocol;
    case engine::errc::invalid_session_timeout: return error_code::invalid_session_timeout;
    case engine::errc::member_id_required: return error_code::member_id_required;
    case engine::errc::fenced_instance_id: return error_code::fenced_instance_id;
    case engine::errc::group_max_size_reached: return error_code::group_max_size_reached;
    case engine::errc::coordinator_not_available: return error_code::coordinator_not_available;
    case engine::errc::group_id_not_found: return error_code::group_id_not_found;
    case engine::errc::non_empty_group: return error_code::non_empty_group;
    case engine::errc::group_subscribed_to_topic: return error_code::group_subscribed_to_topic;
    case engine::errc::offset_metadata_too_large: return error_code::offset_metadata_too_large;
    case engine::errc::unstable_offset_commit: return error_code::unstable_offset_commit;
    case engine::errc::invalid_record: return error_code::invalid_record;
    case engine::errc::out_of_order_sequence: return error_code::out_of_order_sequence_number;
    case engine::errc::invalid_producer_epoch: return error_code::invalid_producer_epoch;
    case engine::errc::producer_fenced: return error_code::producer_fenced;
    case engine::errc::invalid_producer_id_mapping: return error_code::invalid_producer_id_mapping;
    case engine::errc::invalid_txn_state: return error_code::invalid_txn_state;
    case engine::errc::invalid_transaction_timeout: return error_code::invalid_transaction_timeout;
    case engine::errc::concurrent_transactions: return error_code::concurrent_transactions;
    case engine::errc::transactional_id_not_found: return error_code::transactional_id_not_found;
    case engine::errc::invalid_request: return error_code::invalid_request;
  }
  return error_code::unknown_server_error;
}

}  // namespace

protocol::error_code map_data_error(std::error_code ec) {
  if (!ec) return error_code::none;
  if (ec.category() == engine::error_category()) return kafka_code(static_cast<engine::errc>(ec.value()));
  return error_code::unknown_server_error;
}

protocol::error_code map_admin_error(std::error_code ec) {
  // Admin answers use the same vocabulary; kept separate so that the two can diverge (e.g. a
  // storage error while writing the catalog) without touching the data path.
  return map_data_error(ec);
}

protocol::error_code map_group_error(std::error_code ec) {
  // As Kafka's coordinator answers when it cannot write the offsets topic: NOT_COORDINATOR for a
  // failed log or a coordinator going away (clients look for the coordinator again and retry),
  // COORDINATOR_NOT_AVAILABLE while the write queue is full.
  if (ec == engine::errc::storage_error || ec == engine::errc::shutting_down) return error_code::not_coordinator;
  if (ec == engine::errc::busy) return error_code::coordinator_not_available;
  return map_data_error(ec);
}

protocol::error_code map_txn_error(std::error_code ec, bool knows_producer_fenced) {
  // Clients older than PRODUCER_FENCED (InitProducerId < v4, AddPartitionsToTxn, AddOffsetsToTxn
  // and EndTxn < v2) are told INVALID_PRODUCER_EPOCH for it, as Kafka does.
  if (ec == engine::errc::producer_fenced && !knows_producer_fenced) return error_code::invalid_producer_epoch;
  return map_group_error(ec);
}

}  // namespace server::kafka
