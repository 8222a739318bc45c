#pragma once
// What OffsetCommit and TxnOffsetCommit share: both hand a list of offsets to the group
// coordinator and answer per partition, in request order.
#include <cstddef>
#include <utility>
#include <vector>

#include "engine/broker.h"
#include "engine/group_types.h"
#include "server/protocol/error_codes.h"

namespace server::kafka {

// Where, in the response, the answer for each offset handed to the coordinator goes.
using commit_slots = std::vector<std::pair<size_t, size_t>>;  // (topic, partition) index in the response

// Fills `resp` with one entry per requested partition, in request order. A partition that does
// not exist is answered UNKNOWN_TOPIC_OR_PARTITION here; the others' offsets (made by
// `offset_of(partition)`) go to `offsets`, each with its slot.
template <class Topics, class Response, class OffsetOf>
commit_slots collect_commits(const engine::log_manager& eng, const Topics& topics, Response& resp,
                             std::vector<std::pair<engine::topic_partition, engine::committed_offset>>& offsets,
                             OffsetOf offset_of) {
  commit_slots slots;
  for (auto& t : topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    const auto info = eng.find_topic(t.name);
    for (auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      if (!info || p.partition_index < 0 || p.partition_index >= info->partitions) {
        rp.error = protocol::error_code::unknown_topic_or_partition;
        continue;
      }
      offsets.emplace_back(engine::topic_partition{t.name, p.partition_index}, offset_of(p));
      slots.emplace_back(resp.topics.size() - 1, rt.partitions.size() - 1);
    }
  }
  return slots;
}

// The coordinator's answers, one per offset handed over, into their slots.
template <class Response, class Map>
void apply_commit_result(Response& resp, const commit_slots& slots, const engine::commit_result& r, Map map) {
  for (size_t i = 0; i < slots.size() && i < r.size(); ++i)
    resp.topics[slots[i].first].partitions[slots[i].second].error = map(r[i]);
}

}  // namespace server::kafka
