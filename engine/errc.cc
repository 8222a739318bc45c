#include "engine/errc.h"

#include <string>

namespace engine {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "engine"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::ok: return "ok";
      case errc::unknown_topic_or_partition:
        return "no such topic or partition; create the topic first or enable auto-creation";
      case errc::topic_already_exists: return "a topic with that name already exists";
      case errc::invalid_topic:
        return "invalid topic name: use 1 to 249 characters of [a-zA-Z0-9._-], not \".\" or \"..\"";
      case errc::invalid_partitions: return "invalid partition count: a topic needs at least one partition";
      case errc::corrupt_message:
        return "the record batch is malformed (length, record count or CRC-32C does not check out); "
               "the producer must resend a well-formed RecordBatch";
      case errc::unsupported_format:
        return "message format v0/v1 is not supported; use a client that sends RecordBatch v2 (Kafka 0.11+)";
      case errc::message_too_large:
        return "a record batch is larger than the broker's max message bytes; send smaller batches";
      case errc::offset_out_of_range: return "the requested offset is outside the partition's log";
      case errc::storage_error:
        return "the broker's log failed to write, sync or read; see the broker log for the cause";
      case errc::busy: return "the broker's write queue is full; retry shortly";
      case errc::shutting_down: return "the broker is shutting down";
      case errc::invalid_group_id: return "the group id must not be empty";
      case errc::unknown_member_id:
        return "the member is not in the group (it left, was removed or never joined); rejoin";
      case errc::illegal_generation:
        return "the request names another generation of the group than the current one; rejoin";
      case errc::rebalance_in_progress: return "the group is rebalancing; rejoin";
      case errc::inconsistent_group_protocol: return "the member's protocol type or protocols do not match the group's";
      case errc::invalid_session_timeout:
        return "the session timeout is outside the broker's group.min/max.session.timeout.ms bounds";
      case errc::member_id_required: return "rejoin with the member id this answer assigns";
      case errc::fenced_instance_id: return "another member with the same group.instance.id has replaced this one";
      case errc::group_max_size_reached: return "the group already has the broker's maximum number of members";
      case errc::coordinator_not_available: return "the group is being removed; retry";
      case errc::group_id_not_found: return "no such group";
      case errc::non_empty_group: return "the group still has members; stop them first";
      case errc::group_subscribed_to_topic:
        return "the group still subscribes to the topic; its offsets cannot be deleted";
      case errc::offset_metadata_too_large: return "the commit metadata is larger than offset.metadata.max.bytes";
      case errc::unstable_offset_commit: return "a commit for this partition is not durable yet; retry";
      case errc::invalid_record: return "the batch breaks a rule of the protocol for what a producer may send";
      case errc::out_of_order_sequence:
        return "the batch's sequence number does not follow the producer's last one (a gap or a step back)";
      case errc::invalid_producer_epoch: return "the producer's epoch is older than the broker's: it has been fenced";
      case errc::producer_fenced:
        return "a newer producer with the same transactional id has taken over; this one must stop";
      case errc::invalid_producer_id_mapping: return "the producer id does not belong to this transactional id";
      case errc::invalid_txn_state: return "the request does not fit the state of the transaction";
      case errc::invalid_transaction_timeout: return "the transaction timeout is above transaction.max.timeout.ms";
      case errc::concurrent_transactions: return "the previous transaction is still completing; retry";
      case errc::transactional_id_not_found: return "no such transactional id";
      case errc::invalid_request: return "the request is malformed for this API (e.g. an empty transactional id)";
    }
    return "unknown engine error";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category c;
  return c;
}

}  // namespace engine
