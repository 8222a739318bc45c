#pragma once
// The one table of Kafka APIs this broker serves: it drives dispatch and the ApiVersions answer.
#include <span>

#include "server/kafka/request_context.h"
#include "server/protocol/api_keys.h"

namespace server::kafka {

struct api_entry {
  const protocol::api_info& info;  // key, name, version range, first flexible version
  handler_fn handle;
};

std::span<const api_entry> api_table();
const api_entry* find_api_entry(int16_t key);

// The handlers, one file each under server/kafka/handlers/.
boost::asio::awaitable<void> handle_api_versions(request_context ctx);
boost::asio::awaitable<void> handle_metadata(request_context ctx);
boost::asio::awaitable<void> handle_produce(request_context ctx);
boost::asio::awaitable<void> handle_fetch(request_context ctx);
boost::asio::awaitable<void> handle_list_offsets(request_context ctx);
boost::asio::awaitable<void> handle_create_topics(request_context ctx);
boost::asio::awaitable<void> handle_delete_topics(request_context ctx);
boost::asio::awaitable<void> handle_describe_configs(request_context ctx);
boost::asio::awaitable<void> handle_alter_configs(request_context ctx);
boost::asio::awaitable<void> handle_incremental_alter_configs(request_context ctx);
boost::asio::awaitable<void> handle_delete_records(request_context ctx);
boost::asio::awaitable<void> handle_create_partitions(request_context ctx);
boost::asio::awaitable<void> handle_find_coordinator(request_context ctx);
boost::asio::awaitable<void> handle_join_group(request_context ctx);
boost::asio::awaitable<void> handle_sync_group(request_context ctx);
boost::asio::awaitable<void> handle_heartbeat(request_context ctx);
boost::asio::awaitable<void> handle_leave_group(request_context ctx);
boost::asio::awaitable<void> handle_offset_commit(request_context ctx);
boost::asio::awaitable<void> handle_offset_fetch(request_context ctx);
boost::asio::awaitable<void> handle_list_groups(request_context ctx);
boost::asio::awaitable<void> handle_describe_groups(request_context ctx);
boost::asio::awaitable<void> handle_delete_groups(request_context ctx);
boost::asio::awaitable<void> handle_offset_delete(request_context ctx);
boost::asio::awaitable<void> handle_init_producer_id(request_context ctx);
boost::asio::awaitable<void> handle_add_partitions_to_txn(request_context ctx);
boost::asio::awaitable<void> handle_add_offsets_to_txn(request_context ctx);
boost::asio::awaitable<void> handle_end_txn(request_context ctx);
boost::asio::awaitable<void> handle_txn_offset_commit(request_context ctx);
boost::asio::awaitable<void> handle_describe_producers(request_context ctx);
boost::asio::awaitable<void> handle_describe_transactions(request_context ctx);
boost::asio::awaitable<void> handle_list_transactions(request_context ctx);

}  // namespace server::kafka
