#pragma once
// A tiny blocking HTTP/1.1 client for the experiment runner's talks with a child server's admin
// listener (GET /readyz, GET /metrics, PUT /v1/experiment/sync-delay). Loopback only, one request
// per connection (`Connection: close`), every step bounded by the timeout.
// Thread-safety: stateless; call from any thread.
#include <string>

namespace lab::experiment {

struct http_response {
  int status = 0;  // 0 when no response was read; `error` then says why
  std::string body;
  std::string error;
  bool ok() const { return status >= 200 && status < 300; }
};

http_response http_request(int port, const std::string& method, const std::string& path, const std::string& body = {},
                           double timeout_s = 2.0);

}  // namespace lab::experiment
