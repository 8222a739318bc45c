#include "engine/wal_txn_effects.h"

#include <cassert>
#include <memory>

#include "engine/errc.h"
#include "engine/logger.h"
#include "engine/txn_records.h"

namespace engine {

void wal_txn_effects::persist(txn_record r, done_fn done) {
  assert(engine_);
  auto encoded = txn_records::encode(r);
  const uint8_t type = encoded.first;
  auto payload = std::move(encoded.second);
  gate_.submit([this, type, payload = std::move(payload), done = std::move(done)]() mutable {
    engine_->append_internal(
        txn_records::stream, type, std::move(payload),
        [post = post_, clock = clock_, gate = &gate_, done = std::move(done)](std::error_code ec) mutable {
          post([clock, gate, done = std::move(done), ec] {
            done(ec, clock());
            gate->finished();
          });
        });
  });
}

void wal_txn_effects::write_markers(int64_t producer_id, int16_t epoch, bool commit,
                                    const std::vector<topic_partition>& partitions,
                                    const std::vector<std::string>& groups, done_fn done) {
  assert(engine_);
  // Counted on the coordinators' executor: every completion is posted there first.
  struct progress {
    size_t left = 0;
    std::error_code first_error;
    done_fn done;
  };
  auto p = std::make_shared<progress>();
  p->left = partitions.size() + groups.size() + 1;  // +1: this function's own hold
  p->done = std::move(done);
  auto finish_one = [p, clock = clock_](std::error_code ec) {
    if (ec && !p->first_error) p->first_error = ec;
    if (--p->left == 0) p->done(p->first_error, clock());
  };
  for (const auto& tp : partitions)
    engine_->write_marker(tp.topic, tp.partition, producer_id, epoch, commit, 0,
                          [post = post_, finish_one](const result<int64_t>& r) {
                            // A partition deleted since has nothing left to settle.
                            std::error_code ec;
                            if (!r && r.error() != errc::unknown_topic_or_partition) ec = r.error().code();
                            post([finish_one, ec] { finish_one(ec); });
                          });
  for (const auto& g : groups)
    groups_.complete_txn(g, producer_id, commit,
                         [post = post_, finish_one](std::error_code ec, const coordinator_time&) {
                           post([finish_one, ec] { finish_one(ec); });
                         });
  post_([finish_one] { finish_one({}); });
}

void wal_txn_effects::load(txn_coordinator& c, uint8_t type, std::span<const std::byte> payload) {
  auto rec = txn_records::decode(type, payload);
  if (!rec) {
    log().error("skipping a transaction record of type {} ({} bytes) that does not decode", type, payload.size());
    return;
  }
  c.load(*rec);
}

}  // namespace engine
