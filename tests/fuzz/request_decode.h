#pragma once
// The per-API request decoders, as the handlers call them after the connection has read the
// header: one switch over every api key the codec knows, with the checks a decode must pass
// beyond not throwing (views inside the frame, version defaults). Shared by protocol_fuzz (one
// request) and framing_fuzz (a stream of frames).
#include <cstdlib>

#include "server/protocol/add_offsets_to_txn.h"
#include "server/protocol/add_partitions_to_txn.h"
#include "server/protocol/alter_configs.h"
#include "server/protocol/api_keys.h"
#include "server/protocol/api_versions.h"
#include "server/protocol/create_partitions.h"
#include "server/protocol/create_topics.h"
#include "server/protocol/delete_groups.h"
#include "server/protocol/delete_records.h"
#include "server/protocol/delete_topics.h"
#include "server/protocol/describe_configs.h"
#include "server/protocol/describe_groups.h"
#include "server/protocol/describe_producers.h"
#include "server/protocol/describe_transactions.h"
#include "server/protocol/end_txn.h"
#include "server/protocol/fetch.h"
#include "server/protocol/find_coordinator.h"
#include "server/protocol/header.h"
#include "server/protocol/heartbeat.h"
#include "server/protocol/init_producer_id.h"
#include "server/protocol/join_group.h"
#include "server/protocol/leave_group.h"
#include "server/protocol/list_groups.h"
#include "server/protocol/list_offsets.h"
#include "server/protocol/list_transactions.h"
#include "server/protocol/metadata.h"
#include "server/protocol/offset_commit.h"
#include "server/protocol/offset_delete.h"
#include "server/protocol/offset_fetch.h"
#include "server/protocol/produce.h"
#include "server/protocol/sync_group.h"
#include "server/protocol/txn_offset_commit.h"
#include "server/protocol/wire.h"

namespace kairo_fuzz {

using namespace server::protocol;

// Record views must lie inside the input: the engine will write through them. Group metadata
// and assignment views are read by the coordinator after decode, so they must too.
inline void check_inside(byte_view outer, byte_view inner) {
  if (inner.data() < outer.data() || inner.data() + inner.size() > outer.data() + outer.size()) {
    std::abort();
  }
}

// Decodes the body that follows header `h` in `r`, as the handler of h.api_key does. Throws
// protocol_error on malformed input (the only acceptable failure); aborts on a broken invariant.
inline void decode_body(reader& r, const request_header& h) {
  const std::int16_t v = h.api_version;
  switch (static_cast<api_key>(h.api_key)) {
    case api_key::produce: {
      auto req = produce_request::decode(r, v);
      for (const auto& t : req.topics) {
        for (const auto& p : t.partitions) {
          check_inside(r.buffer(), p.records);
          if (r.buffer().data() + p.records_offset != p.records.data()) std::abort();
        }
      }
      break;
    }
    case api_key::fetch: fetch_request::decode(r, v); break;
    case api_key::list_offsets: list_offsets_request::decode(r, v); break;
    case api_key::metadata: metadata_request::decode(r, v); break;
    case api_key::find_coordinator: find_coordinator_request::decode(r, v); break;
    case api_key::api_versions: api_versions_request::decode(r, v); break;
    case api_key::create_topics: create_topics_request::decode(r, v); break;
    case api_key::delete_topics: delete_topics_request::decode(r, v); break;
    case api_key::describe_configs: describe_configs_request::decode(r, v); break;
    case api_key::offset_commit: offset_commit_request::decode(r, v); break;
    case api_key::offset_fetch: {
      auto req = offset_fetch_request::decode(r, v);
      // v0-7 name exactly one group.
      if (v <= 7 && req.groups.size() != 1) std::abort();
      break;
    }
    case api_key::join_group: {
      auto req = join_group_request::decode(r, v);
      for (const auto& p : req.protocols) check_inside(r.buffer(), p.metadata);
      break;
    }
    case api_key::heartbeat: heartbeat_request::decode(r, v); break;
    case api_key::leave_group: {
      auto req = leave_group_request::decode(r, v);
      // v0-2 name exactly one member.
      if (v <= 2 && req.members.size() != 1) std::abort();
      break;
    }
    case api_key::sync_group: {
      auto req = sync_group_request::decode(r, v);
      for (const auto& a : req.assignments) check_inside(r.buffer(), a.assignment);
      break;
    }
    case api_key::describe_groups: describe_groups_request::decode(r, v); break;
    case api_key::list_groups: list_groups_request::decode(r, v); break;
    case api_key::delete_groups: delete_groups_request::decode(r, v); break;
    case api_key::offset_delete: offset_delete_request::decode(r, v); break;
    case api_key::init_producer_id: {
      auto req = init_producer_id_request::decode(r, v);
      // v0-2 carry no producer id or epoch; the defaults must stand.
      if (v <= 2 && (req.producer_id != -1 || req.producer_epoch != -1)) std::abort();
      break;
    }
    case api_key::add_partitions_to_txn: add_partitions_to_txn_request::decode(r, v); break;
    case api_key::add_offsets_to_txn: add_offsets_to_txn_request::decode(r, v); break;
    case api_key::end_txn: end_txn_request::decode(r, v); break;
    case api_key::txn_offset_commit: txn_offset_commit_request::decode(r, v); break;
    case api_key::describe_producers: describe_producers_request::decode(r, v); break;
    case api_key::describe_transactions: describe_transactions_request::decode(r, v); break;
    case api_key::delete_records: delete_records_request::decode(r, v); break;
    case api_key::create_partitions: create_partitions_request::decode(r, v); break;
    case api_key::alter_configs: alter_configs_request::decode(r, v, false); break;
    case api_key::incremental_alter_configs: alter_configs_request::decode(r, v, true); break;
    case api_key::list_transactions: {
      auto req = list_transactions_request::decode(r, v);
      // v0 has no duration filter: "all transactions" must stand.
      if (v == 0 && req.duration_filter != -1) std::abort();
      break;
    }
  }
}

}  // namespace kairo_fuzz
