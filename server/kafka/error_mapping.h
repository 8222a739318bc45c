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

}  // namespace server::kafka
