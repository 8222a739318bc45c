#include <catch2/catch.hpp>

#include <string>
#include <system_error>

#include "util/result.h"

namespace {

enum class test_errc { ok = 0, broken };

struct test_category : std::error_category {
  const char* name() const noexcept override { return "test"; }
  std::string message(int) const override { return "it broke"; }
};
const std::error_category& category() {
  static test_category c;
  return c;
}
std::error_code make_error_code(test_errc e) { return {static_cast<int>(e), category()}; }

}  // namespace

template <>
struct std::is_error_code_enum<test_errc> : std::true_type {};

namespace {

util::result<int> divide(int a, int b) {
  if (b == 0) return util::fail(test_errc::broken, "dividing " + std::to_string(a) + " by zero");
  return a / b;
}

}  // namespace

TEST_CASE("an error carries its code for branching and its words for people", "[util]") {
  auto r = divide(7, 0);
  REQUIRE_FALSE(r);
  CHECK(r.error() == test_errc::broken);
  CHECK(r.error().code() == make_error_code(test_errc::broken));
  CHECK(r.error().message() == "dividing 7 by zero");
  CHECK(*divide(8, 2) == 4);
}

TEST_CASE("an error without words speaks with its code's", "[util]") {
  const util::error e = test_errc::broken;
  CHECK(e.message() == "it broke");
  CHECK(static_cast<bool>(e));
  CHECK_FALSE(static_cast<bool>(util::error{}));
}

TEST_CASE("errors compare by code, whatever their words", "[util]") {
  const util::error a(make_error_code(test_errc::broken), "one way");
  const util::error b(make_error_code(test_errc::broken), "another");
  CHECK(a == b);
  CHECK(a == make_error_code(test_errc::broken));
  CHECK_FALSE(a == std::make_error_code(std::errc::io_error));
}
