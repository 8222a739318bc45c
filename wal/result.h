#pragma once
// The error-carrying return type used across module boundaries on the data path.
#include <system_error>

#include <tl/expected.hpp>

namespace wal {

template <class T>
using result = tl::expected<T, std::error_code>;

inline tl::unexpected<std::error_code> fail(std::error_code ec) { return tl::unexpected(ec); }

}  // namespace wal
