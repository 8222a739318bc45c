#include "experiments/lab/experiment_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace lab::experiment {
namespace {

using clock_type = std::chrono::steady_clock;

int remaining_ms(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits until fd is ready for `events` or the deadline passes.
bool wait_fd(int fd, short events, clock_type::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

http_response http_request(int port, const std::string& method, const std::string& path, const std::string& body,
                           double timeout_s) {
  http_response out;
  const auto deadline = clock_type::now() + std::chrono::microseconds(static_cast<long long>(timeout_s * 1e6));
  fd_guard s{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) {
    out.error = std::string("socket: ") + std::strerror(errno);
    return out;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      out.error = std::string("connect: ") + std::strerror(errno);
      return out;
    }
    if (!wait_fd(s.fd, POLLOUT, deadline)) {
      out.error = "connect: timed out";
      return out;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      out.error = std::string("connect: ") + std::strerror(err);
      return out;
    }
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\nUser-Agent: kairo-experiment\r\n";
  if (!body.empty() || method == "PUT" || method == "POST")
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(s.fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(s.fd, POLLOUT, deadline)) {
        out.error = "send: timed out";
        return out;
      }
      continue;
    }
    out.error = std::string("send: ") + std::strerror(errno);
    return out;
  }
  // Read until the peer closes or Content-Length bytes of body have arrived.
  std::string raw;
  size_t header_end = std::string::npos;
  long long content_length = -1;
  char buf[16384];
  for (;;) {
    if (header_end != std::string::npos && content_length >= 0 &&
        raw.size() >= header_end + 4 + static_cast<size_t>(content_length))
      break;
    ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n > 0) {
      raw.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos) {
        header_end = raw.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          std::string head = raw.substr(0, header_end);
          for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          auto p = head.find("\r\ncontent-length:");
          if (p != std::string::npos) content_length = std::atoll(head.c_str() + p + 17);
        }
      }
      continue;
    }
    if (n == 0) break;
    if (errno == EAGAIN || errno == EINTR) {
      if (!wait_fd(s.fd, POLLIN, deadline)) {
        out.error = "receive: timed out";
        return out;
      }
      continue;
    }
    out.error = std::string("receive: ") + std::strerror(errno);
    return out;
  }
  if (raw.compare(0, 5, "HTTP/") != 0 || header_end == std::string::npos) {
    out.error = "malformed HTTP response";
    return out;
  }
  auto sp = raw.find(' ');
  out.status = std::atoi(raw.c_str() + sp + 1);
  out.body = raw.substr(header_end + 4);
  if (content_length >= 0 && out.body.size() > static_cast<size_t>(content_length))
    out.body.resize(static_cast<size_t>(content_length));
  return out;
}

}  // namespace lab::experiment
