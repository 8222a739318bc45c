#include "engine/consumer_protocol.h"

#include <cstdint>

namespace engine {

std::optional<std::vector<std::string>> subscription_topics(std::span<const std::byte> m) {
  size_t pos = 0;
  auto take = [&](size_t n) -> const std::byte* {
    if (m.size() - pos < n) return nullptr;
    const std::byte* p = m.data() + pos;
    pos += n;
    return p;
  };
  auto be = [](const std::byte* p, size_t n) {
    uint32_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | std::to_integer<uint32_t>(p[i]);
    return v;
  };
  const std::byte* version = take(2);
  if (!version || static_cast<int16_t>(be(version, 2)) < 0) return std::nullopt;
  const std::byte* count = take(4);
  if (!count) return std::nullopt;
  const auto n = static_cast<int32_t>(be(count, 4));
  // Each topic takes at least its 2-byte length: a forged count cannot drive a huge reserve.
  if (n < 0 || static_cast<size_t>(n) > (m.size() - pos) / 2) return std::nullopt;
  std::vector<std::string> topics;
  topics.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    const std::byte* len = take(2);
    if (!len) return std::nullopt;
    const auto l = static_cast<int16_t>(be(len, 2));
    if (l < 0) return std::nullopt;
    const std::byte* s = take(static_cast<size_t>(l));
    if (!s) return std::nullopt;
    topics.emplace_back(reinterpret_cast<const char*>(s), static_cast<size_t>(l));
  }
  return topics;
}

}  // namespace engine
