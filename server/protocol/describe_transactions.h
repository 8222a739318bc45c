#pragma once

// DescribeTransactions (key 65), v0; flexible.

#include <cstdint>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct describe_transactions_request {
  std::vector<std::string> transactional_ids;

  static describe_transactions_request decode(reader& r, std::int16_t version);
};

struct describe_transactions_response {
  struct topic {
    std::string topic;
    std::vector<std::int32_t> partitions;
  };
  struct transaction {
    error_code error = error_code::none;
    std::string transactional_id;
    std::string transaction_state;
    std::int32_t transaction_timeout_ms = 0;
    std::int64_t transaction_start_time_ms = -1;
    std::int64_t producer_id = -1;
    std::int16_t producer_epoch = -1;
    std::vector<topic> topics;
  };

  std::int32_t throttle_time_ms = 0;
  std::vector<transaction> transaction_states;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
