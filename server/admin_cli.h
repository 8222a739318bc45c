#pragma once
// The admin commands: `kairo topics|groups|policy|tuner ...`, run against a server's admin API
// (server/admin/routes.h) over HTTP. Human-readable tables by default, the API's JSON with
// --json. The server is --admin HOST:PORT, else $KAIRO_ADMIN, else 127.0.0.1:9644.
//
//   kairo topics list | describe NAME | create NAME [--partitions N] [--config K=V]...
//                | delete NAME | alter NAME [--set K=V]... [--delete K]... [--partitions N]
//   kairo groups list | describe ID | lag [ID]
//   kairo policy show | pin PROFILE | pin --min-batches N [--linger-ms MS] | auto
//   kairo tuner decisions [--limit N] | changes [--limit N]
//
// Exit codes: 0 done, 1 the server refused or could not be reached (its words on stderr),
// 2 bad usage.
namespace server {

int run_topics_command(int argc, char** argv);
int run_groups_command(int argc, char** argv);
int run_policy_command(int argc, char** argv);
int run_tuner_command(int argc, char** argv);

}  // namespace server
