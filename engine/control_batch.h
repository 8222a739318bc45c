#pragma once
// Transaction markers: the control batches the broker writes into every partition of a
// transaction when it commits or aborts (Kafka's EndTransactionMarker). One record, attributes
// transactional | control, the producer's id and epoch, no sequence; key = version i16 (0) |
// type i16 (0 abort, 1 commit), value = version i16 (0) | coordinator_epoch i32.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace engine {

std::vector<std::byte> make_control_batch(int64_t producer_id, int16_t producer_epoch, bool commit,
                                          int32_t coordinator_epoch, int64_t timestamp_ms);

// The marker's type (true: commit) from a control batch, or nullopt when its first record is not
// a well-formed marker.
std::optional<bool> control_batch_commit(std::span<const std::byte> batch);

}  // namespace engine
