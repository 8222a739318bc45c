#pragma once
// Engine and WAL errors as Kafka error codes. The only place those numbers are chosen.
#include <system_error>

#include "server/protocol/error_codes.h"

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

}  // namespace server::kafka
