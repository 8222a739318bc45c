#pragma once
// Child processes of the experiment runner: a `kairo serve` (or the mock broker) per point.
// The child gets its own process group (so a terminal Ctrl-C reaches only the runner, which then
// stops the child itself) and PR_SET_PDEATHSIG (so it dies if the runner is killed).
// Ownership: child_process owns the pid; its destructor kills and reaps a child still running, so
// no server outlives the runner. Not thread-safe: use from one thread.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lab::experiment {

struct stop_outcome {
  bool was_running = false;
  bool killed = false;  // SIGTERM was not enough within the grace period: SIGKILL was sent
  int exit_code = -1;   // when it exited normally
  int signal = 0;       // when a signal ended it
  double seconds = 0;   // from SIGTERM to reaped
  std::string describe() const;
};

class child_process {
 public:
  child_process() = default;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process();

  // Starts argv[0] with argv, stdout and stderr appended to log_path, stdin from /dev/null; the
  // environment is ours minus variables starting with drop_prefix (when non-empty), plus env.
  // Throws std::runtime_error when the process cannot be created.
  void start(const std::vector<std::string>& argv, const std::string& log_path,
             const std::vector<std::pair<std::string, std::string>>& env = {}, const std::string& drop_prefix = "");
  bool running();  // reaps it when it has exited
  pid_t pid() const { return pid_; }
  std::string exit_description() const { return exit_desc_; }  // after running() returned false
  // SIGTERM, wait up to grace_s, then SIGKILL and wait.
  stop_outcome stop(double grace_s = 10.0);

 private:
  pid_t pid_ = -1;
  std::string exit_desc_;
};

// n distinct free TCP ports on 127.0.0.1 (bound to port 0 together, then released).
std::vector<int> free_loopback_ports(int n);

// True when a TCP connection to 127.0.0.1:port is accepted.
bool tcp_port_open(int port);

// VmHWM (peak resident set) of a live process in bytes, or -1.
int64_t peak_rss_bytes(pid_t pid);

// CPU time (utime + stime, all threads) of a live process in seconds, from /proc/<pid>/stat; NaN
// when unreadable. Clock-tick resolution (usually 10 ms).
double process_cpu_seconds(pid_t pid);

// The stdout of `sh -c cmd`, trimmed; empty on failure.
std::string shell_output(const std::string& cmd);

}  // namespace lab::experiment
