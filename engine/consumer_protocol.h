#pragma once
// The part of Kafka's consumer protocol ("consumer" protocol type) the broker reads: the topics
// of a member's subscription. Clients encode it in JoinGroup metadata as
//   version int16 | topics: int32 count, (int16 length, bytes){count} | user_data | ...
// Every version starts with that prefix, so reading it does not depend on the version.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace engine {

inline constexpr std::string_view consumer_protocol_type = "consumer";

// The subscribed topics, or nullopt when the bytes do not start with a well-formed prefix.
std::optional<std::vector<std::string>> subscription_topics(std::span<const std::byte> metadata);

}  // namespace engine
