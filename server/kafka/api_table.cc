#include "server/kafka/api_table.h"

namespace server::kafka {
namespace {

using protocol::api;
using protocol::api_key;

const api_entry table[] = {
    {api(api_key::produce), &handle_produce},
    {api(api_key::fetch), &handle_fetch},
    {api(api_key::list_offsets), &handle_list_offsets},
    {api(api_key::metadata), &handle_metadata},
    {api(api_key::offset_commit), &handle_offset_commit},
    {api(api_key::offset_fetch), &handle_offset_fetch},
    {api(api_key::find_coordinator), &handle_find_coordinator},
    {api(api_key::join_group), &handle_join_group},
    {api(api_key::heartbeat), &handle_heartbeat},
    {api(api_key::leave_group), &handle_leave_group},
    {api(api_key::sync_group), &handle_sync_group},
    {api(api_key::describe_groups), &handle_describe_groups},
    {api(api_key::list_groups), &handle_list_groups},
    {api(api_key::api_versions), &handle_api_versions},
    {api(api_key::create_topics), &handle_create_topics},
    {api(api_key::delete_topics), &handle_delete_topics},
    {api(api_key::init_producer_id), &handle_init_producer_id},
    {api(api_key::add_partitions_to_txn), &handle_add_partitions_to_txn},
    {api(api_key::add_offsets_to_txn), &handle_add_offsets_to_txn},
    {api(api_key::end_txn), &handle_end_txn},
    {api(api_key::txn_offset_commit), &handle_txn_offset_commit},
    {api(api_key::describe_configs), &handle_describe_configs},
    {api(api_key::alter_configs), &handle_alter_configs},
    {api(api_key::incremental_alter_configs), &handle_incremental_alter_configs},
    {api(api_key::delete_records), &handle_delete_records},
    {api(api_key::create_partitions), &handle_create_partitions},
    {api(api_key::delete_groups), &handle_delete_groups},
    {api(api_key::offset_delete), &handle_offset_delete},
    {api(api_key::describe_producers), &handle_describe_producers},
    {api(api_key::describe_transactions), &handle_describe_transactions},
    {api(api_key::list_transactions), &handle_list_transactions},
};

}  // namespace

std::span<const api_entry> api_table() { return table; }

const api_entry* find_api_entry(int16_t key) {
  for (auto& e : table)
    if (static_cast<int16_t>(e.info.key) == key) return &e;
  return nullptr;
}

}  // namespace server::kafka
