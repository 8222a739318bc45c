#include "engine/wal_group_store.h"

#include <cassert>

#include "engine/group_records.h"
#include "engine/logger.h"

namespace engine {

void wal_group_store::persist(group_record r, done_fn done) {
  assert(engine_);
  auto encoded = group_records::encode(r);
  const uint8_t type = encoded.first;
  auto payload = std::move(encoded.second);
  gate_.submit([this, type, payload = std::move(payload), done = std::move(done)]() mutable {
    engine_->append_internal(
        group_records::stream, type, std::move(payload),
        [post = post_, clock = clock_, gate = &gate_, done = std::move(done)](std::error_code ec) mutable {
          // Never inline into the coordinator: always through its executor.
          post([clock, gate, done = std::move(done), ec] {
            done(ec, clock());
            gate->finished();
          });
        });
  });
}

void wal_group_store::load(group_coordinator& c, uint8_t type, std::span<const std::byte> payload) {
  auto rec = group_records::decode(type, payload);
  if (!rec) {
    log().error("skipping a group record of type {} ({} bytes) that does not decode", type, payload.size());
    return;
  }
  c.load(*rec);
}

}  // namespace engine
