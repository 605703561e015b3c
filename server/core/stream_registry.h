#pragma once
// The streams this server knows: their stored records plus runtime state (live or not,
// ingest stats, viewer count). Lives on the control-plane thread: no locks, call only there.
//
// Writers: media (set_live, set_ingest_stats), realtime (set_viewers). Readers: the HTTP API,
// rooms. Listeners hear every change so, e.g., a room can tell its host the stream went live.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace harvest {

struct StreamRecord {
  std::string id;          // public, URL-safe (appears in /watch/{id})
  std::string stream_key;  // secret: only the farmer's encoder and the host know it
  std::string title;
  std::string farmer;           // the name shown with the show
  int64_t created_at_ms = 0;
  // --- self-service shows (issue 18) ---
  std::string owner;            // the farmer account that runs it ("" made by the admin)
  int64_t scheduled_at_ms = 0;  // announced start (0: none): listed as upcoming until live
  std::string cover;            // cover picture URL ("" none)
  int64_t ended_at_ms = 0;      // the farmer ended the show: no more publishing (0: open)
};

// Where stream records are kept (store::Store implements it). Stated here, by its user, so
// that core/ depends on no folder above it.
class StreamRecords {
public:
  virtual ~StreamRecords() = default;
  // Fails if the id or key already exists.
  virtual Status create_stream(const StreamRecord& stream) = 0;
  virtual std::optional<StreamRecord> find_stream(const std::string& id) = 0;
  virtual std::optional<StreamRecord> find_stream_by_key(const std::string& stream_key) = 0;
  // Oldest first.
  virtual Status list_streams(std::vector<StreamRecord>& out) = 0;
  // Replaces every field but the id; fails if the new key is another stream's.
  virtual Status update_stream(const StreamRecord& stream) = 0;
};

struct StreamState {
  StreamRecord record;
  bool live = false;
  int64_t live_since_ms = 0;
  nlohmann::json ingest = nlohmann::json::object();  // protocol, bitrate, fps, resolution, codecs, rtt, loss
  int viewers = 0;
  int peak_viewers = 0;
  // Several nodes (--bus redis://): the node whose ingest holds the stream while it is live
  // there ("" while it is live here, or offline).
  std::string ingest_node;
};

class StreamRegistry {
public:
  explicit StreamRegistry(StreamRecords& store) : store_(store) {}

  // Loads every stored stream (all offline).
  Status load();
  // Creates and stores a stream with a fresh id and secret key.
  Status create(const std::string& title, const std::string& farmer, StreamState*& out);
  // A farmer's own show: `fields`' title, farmer, owner, scheduled_at_ms and cover are used;
  // the id and key are fresh.
  Status create(const StreamRecord& fields, StreamState*& out);
  // Stores the changed title, schedule or cover of a stream (Change::details).
  Status update_details(const std::string& id, const std::string& title, int64_t scheduled_at_ms,
                        const std::string& cover);
  // A fresh secret key; the old one stops working at once (Change::key_rotated).
  Status rotate_key(const std::string& id);
  // Ends the show for good: no publisher is accepted any more (Change::ended).
  Status end(const std::string& id, int64_t at_ms);
  // The demo stream (id "demo"): created with a fresh key on first use, found afterwards.
  Status ensure_demo_stream(StreamState*& out);
  // --demo's second stream, "phone": nobody publishes to it until a phone goes live over WHIP
  // (the demo stream has the built-in publisher, which a phone would take over).
  Status ensure_phone_demo_stream(StreamState*& out);

  StreamState* find(const std::string& id);
  StreamState* find_by_key(const std::string& stream_key);
  std::vector<const StreamState*> all() const;

  void set_live(const std::string& id, bool live);
  void set_ingest_stats(const std::string& id, nlohmann::json stats);
  void set_viewers(const std::string& id, int viewers);

  enum class Change { created, live, offline, ingest_stats, viewers, details, key_rotated, ended };
  using Listener = std::function<void(const StreamState&, Change)>;
  void add_listener(Listener listener) { listeners_.push_back(std::move(listener)); }

  // --- several nodes: what another node changed ---
  // Reads the record back from the shared store and applies it (created, or `change`: details,
  // key_rotated, ended), telling the listeners as if it had been changed here.
  Status refresh(const std::string& id, Change change);
  // Node `node` holds (or no longer holds) the stream's ingest. Ignored while it is live here.
  void set_remote_live(const std::string& id, const std::string& node, bool live);

private:
  Status create_with_id(const std::string& id, const std::string& title, const std::string& farmer,
                        StreamState*& out);
  Status create_record(StreamRecord record, StreamState*& out);
  // Stores `changed` as `id`'s record and tells the listeners.
  Status replace(StreamState& s, StreamRecord changed, Change c);
  void notify(const StreamState& s, Change c);
  StreamRecords& store_;
  std::map<std::string, std::unique_ptr<StreamState>> by_id_;
  std::map<std::string, StreamState*> by_key_;
  std::vector<Listener> listeners_;
};

}  // namespace harvest
