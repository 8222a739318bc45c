#pragma once
// Engine errors as Kafka error codes. The only place those numbers are chosen. The engine maps
// the WAL's errors into its own (engine::errc) before they reach a handler.
#include <system_error>

#include "server/protocol/error_codes.h"
#include "util/result.h"

namespace server::kafka {

// For data-path answers (produce, fetch, list offsets, metadata).
protocol::error_code map_data_error(std::error_code ec);
// For topic administration answers (create, delete, describe).
protocol::error_code map_admin_error(std::error_code ec);
// For group coordinator answers (JoinGroup ... OffsetDelete).
protocol::error_code map_group_error(std::error_code ec);
// For transaction coordinator answers (InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn,
// EndTxn, TxnOffsetCommit); `knows_producer_fenced`: the request's version has PRODUCER_FENCED.
protocol::error_code map_txn_error(std::error_code ec, bool knows_producer_fenced);

// The same, for an error of a result: the code decides, the words go in the answer's message.
inline protocol::error_code map_data_error(const util::error& e) { return map_data_error(e.code()); }
inline protocol::error_code map_admin_error(const util::error& e) { return map_admin_error(e.code()); }
inline protocol::error_code map_group_error(const util::error& e) { return map_group_error(e.code()); }
inline protocol::error_code map_txn_error(const util::error& e, bool knows_producer_fenced) {
  return map_txn_error(e.code(), knows_producer_fenced);
}

}  // namespace server::kafka
