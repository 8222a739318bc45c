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
  corrupt_message,     // a batch failed validation (magic, lengths, count, crc)
  unsupported_format,  // a batch with a magic other than 2
  message_too_large,
  offset_out_of_range,
  storage_error,  // the WAL failed (sticky) or a file could not be read
  busy,           // the WAL queue is at its byte bound
  shutting_down,
  // Group coordinator (engine/group_coordinator.h): Kafka's classic group protocol refusals.
  invalid_group_id,             // an empty group id where the API needs one
  unknown_member_id,            // the member is not (or no longer) in the group
  illegal_generation,           // the member speaks for an older (or newer) generation
  rebalance_in_progress,        // the group is rebalancing: rejoin
  inconsistent_group_protocol,  // no protocol common to every member, or another protocol type
  invalid_session_timeout,      // outside the broker's configured bounds
  member_id_required,           // first join (v4+): rejoin with the member id in the answer
  fenced_instance_id,           // another member took over this group.instance.id
  group_max_size_reached,
  coordinator_not_available,  // the group is being removed: find the coordinator again
  group_id_not_found,
  non_empty_group,            // the group still has members
  group_subscribed_to_topic,  // offsets of a topic the group consumes cannot be deleted
  offset_metadata_too_large,
  unstable_offset_commit,  // a commit for the partition is not durable yet
  // Idempotent and transactional producers (engine/producer_state.h, engine/txn_coordinator.h).
  invalid_record,               // a batch breaks a rule of the protocol (marker from a client, ...)
  out_of_order_sequence,        // a gap or a step back in a producer's sequence numbers
  invalid_producer_epoch,       // an older epoch than the producer's: fenced or a zombie
  producer_fenced,              // a newer producer with the same transactional id took over
  invalid_producer_id_mapping,  // the producer id is not the transactional id's
  invalid_txn_state,            // the request does not fit the transaction's state
  invalid_transaction_timeout,  // above transaction.max.timeout.ms
  concurrent_transactions,      // the previous transaction is still completing: retry
  transactional_id_not_found,
  invalid_request,  // a request no client should send (an empty transactional id)
};

const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace engine

template <>
struct std::is_error_code_enum<engine::errc> : std::true_type {};
