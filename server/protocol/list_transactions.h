#pragma once

// ListTransactions (key 66), v0-1; flexible.

#include <cstdint>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct list_transactions_request {
  std::vector<std::string> state_filters;
  std::vector<std::int64_t> producer_id_filters;
  std::int64_t duration_filter = -1;  // v1+: only transactions running longer than this (ms)

  static list_transactions_request decode(reader& r, std::int16_t version);
};

struct list_transactions_response {
  struct transaction {
    std::string transactional_id;
    std::int64_t producer_id = -1;
    std::string transaction_state;
  };

  std::int32_t throttle_time_ms = 0;
  error_code error = error_code::none;
  std::vector<std::string> unknown_state_filters;
  std::vector<transaction> transaction_states;

  void encode(writer& w, std::int16_t version) const;
};

}  // namespace server::protocol
