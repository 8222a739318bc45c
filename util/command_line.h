#pragma once
// The front door of kairo's programs (`kairo <command>`, `kairo-lab <command>`): help, version,
// one function per command, and the same exit codes and error lines everywhere. Header-only.
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options/errors.hpp>

namespace util {

struct command {
  std::string_view name;
  std::function<int(int argc, char** argv)> run;  // argv[0] is the command's name
};

// Runs the command named by argv[1]. Exit codes: the command's own; 0 for help and version; 2
// for a missing or unknown command and for bad options (one line naming the program and the
// command, then how to get help). `elsewhere` names commands another program has, with its name.
inline int run_commands(int argc, char** argv, std::string_view program, std::string_view version,
                        void (*usage)(std::FILE*), const std::vector<command>& commands,
                        const std::vector<std::pair<std::string_view, std::string_view>>& elsewhere = {}) {
  const std::string prog(program);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("%s %.*s\n", prog.c_str(), static_cast<int>(version.size()), version.data());
    return 0;
  }
  for (const auto& c : commands) {
    if (c.name != cmd) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const boost::program_options::error& e) {
      std::fprintf(stderr, "%s %s: %s (try `%s %s --help`)\n", prog.c_str(), cmd.c_str(), e.what(), prog.c_str(),
                   cmd.c_str());
      return 2;
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "%s %s: %s\n", prog.c_str(), cmd.c_str(), e.what());
      return 2;
    }
  }
  for (const auto& [name, other] : elsewhere)
    if (name == cmd) {
      const std::string o(other);
      std::fprintf(stderr, "%s: '%s' is a %s command; run `%s %s`\n", prog.c_str(), cmd.c_str(), o.c_str(), o.c_str(),
                   cmd.c_str());
      return 2;
    }
  std::fprintf(stderr, "%s: unknown command '%s'\n\n", prog.c_str(), cmd.c_str());
  usage(stderr);
  return 2;
}

}  // namespace util
