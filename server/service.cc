#include "server/service.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

namespace server {
namespace {

// The syslog priority journald reads from a "<N>" line prefix.
char syslog_priority(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug: return '7';
    case spdlog::level::info: return '6';
    case spdlog::level::warn: return '4';
    case spdlog::level::err: return '3';
    case spdlog::level::critical: return '2';
    default: return '6';
  }
}

class priority_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const char p[] = {'<', syslog_priority(msg.level), '>'};
    dest.append(p, p + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<priority_flag>(); }
};

// The module (the logger's name), or "kairo" for the process-wide default logger.
class module_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string_view name = msg.logger_name.size()
                                      ? std::string_view(msg.logger_name.data(), msg.logger_name.size())
                                      : std::string_view("kairo");
    dest.append(name.data(), name.data() + name.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<module_flag>(); }
};

}  // namespace

void set_log_format(const std::string& format) {
  if (format == "text") return;  // spdlog's own: [time] [module] [level] message
  if (format != "journal") throw std::invalid_argument("--log-format: '" + format + "' is not text or journal");
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<priority_flag>('*').add_flag<module_flag>('&').set_pattern("%*%&: %v");
  spdlog::set_formatter(std::move(f));  // the default logger and every module logger registered so far
}

bool notify_service_manager(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(path);
  if (len >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // an abstract socket
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  const bool ok = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr),
                           addr_len) == static_cast<ssize_t>(state.size());
  ::close(fd);
  return ok;
}

}  // namespace server
