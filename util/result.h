#pragma once
// The one error convention across modules: a result<T> holds a value or an error, and an error
// holds both what a caller branches on (a std::error_code of the module's errc) and the words a
// user needs to act on it (the file, the byte, the system call, the cause).
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <tl/expected.hpp>

namespace util {

// A module's errc enum (one that std::error_code can be made from).
template <class E>
concept error_code_enum = std::is_error_code_enum_v<E>;

class error {
 public:
  error() = default;
  // A bare code is an error whose words are the code's own (implicit, so `return fail(errc::x)`
  // and `return errc::x` style refusals stay short).
  error(std::error_code code) : code_(code) {}  // NOLINT(google-explicit-constructor)
  template <error_code_enum E>
  error(E e) : code_(make_error_code(e)) {}  // NOLINT(google-explicit-constructor)
  error(std::error_code code, std::string message) : code_(code), message_(std::move(message)) {}

  const std::error_code& code() const { return code_; }
  // The words: the message given where the error was made, else the code's own text.
  std::string message() const { return message_.empty() ? code_.message() : message_; }
  explicit operator bool() const { return static_cast<bool>(code_); }

  // Errors compare by code: the words are for people, the code is for branching.
  friend bool operator==(const error& a, const error& b) { return a.code_ == b.code_; }
  friend bool operator==(const error& a, const std::error_code& b) { return a.code_ == b; }
  template <error_code_enum E>
  friend bool operator==(const error& a, E e) {
    return a.code_ == make_error_code(e);
  }

 private:
  std::error_code code_;
  std::string message_;
};

template <class T>
using result = tl::expected<T, error>;

inline tl::unexpected<error> fail(error e) { return tl::unexpected(std::move(e)); }
inline tl::unexpected<error> fail(std::error_code code, std::string message) {
  return tl::unexpected(error(code, std::move(message)));
}

}  // namespace util
