#pragma once

// ApiVersions (key 18), v0-3; v3+ flexible in the body, but its response header is always v0.

#include <cstdint>
#include <string>
#include <vector>

#include "server/protocol/error_codes.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct api_versions_request {
  std::string client_software_name;     // v3+
  std::string client_software_version;  // v3+

  static api_versions_request decode(reader& r, std::int16_t version);
};

struct api_versions_response {
  struct api_version {
    std::int16_t api_key = 0;
    std::int16_t min_version = 0;
    std::int16_t max_version = 0;
  };

  error_code error = error_code::none;
  std::vector<api_version> api_keys;
  std::int32_t throttle_time_ms = 0;  // v1+

  // For a request version above 3 the broker answers UNSUPPORTED_VERSION encoded as v0 (the
  // shape every client can read) without decoding the request body, listing at least the
  // ApiVersions range so the client can retry with a version both sides know.
  void encode(writer& w, std::int16_t version) const;

  // Every API in supported_apis with its range, as the broker advertises it.
  static std::vector<api_version> from_supported_apis();
};

}  // namespace server::protocol
