#pragma once

// Request header decode (v1, or v2 for flexible API versions) and response header encode.
// The 4-byte frame size in front of both belongs to the connection, not to this codec.

#include <cstdint>
#include <optional>
#include <string>

#include "server/protocol/api_keys.h"
#include "server/protocol/wire.h"

namespace server::protocol {

struct request_header {
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  std::int32_t correlation_id = 0;
  // Classic nullable string even in header v2: the header layout predates compact strings and
  // was kept so a broker can always read key, version and id of any request.
  std::optional<std::string> client_id;

  // Reads header v2 when (api_key, api_version) is flexible, v1 otherwise, including for an
  // unknown api key or version, so the caller can still answer with the correlation id.
  static request_header decode(reader& r);
};

// 0 or 1; ApiVersions always answers with v0 so that a client that sent a version the broker
// does not know can still parse the reply that lists the versions it does know.
int response_header_version(std::int16_t key, std::int16_t version);

void encode_response_header(writer& w, std::int32_t correlation_id, std::int16_t key, std::int16_t version);

// Throws protocol_error naming the API and version when the codec cannot decode that version.
// Every request decoder calls it first.
void require_supported(api_key key, std::int16_t version);

}  // namespace server::protocol
