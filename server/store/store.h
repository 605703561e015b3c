#pragma once
// The store: everything that must survive a restart. One interface, one file per backend
// (sqlite_store.cpp: the embedded default; a PostgreSQL backend for scale-out).
//
// Contract for every method: callable from the control-plane thread; returns a Status (or an
// empty optional) instead of throwing. Durable on return unless a method says otherwise.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace harvest::store {

struct StreamRecord {
  std::string id;          // public, URL-safe (appears in /watch/{id})
  std::string stream_key;  // secret: only the farmer's encoder and the host know it
  std::string title;
  std::string farmer;
  int64_t created_at_ms = 0;
};

class Store {
public:
  virtual ~Store() = default;

  // --- streams ---
  // Fails if the id or key already exists.
  virtual Status create_stream(const StreamRecord& stream) = 0;
  virtual std::optional<StreamRecord> find_stream(const std::string& id) = 0;
  virtual std::optional<StreamRecord> find_stream_by_key(const std::string& stream_key) = 0;
  // Oldest first.
  virtual std::vector<StreamRecord> list_streams() = 0;
};

// Opens the backend named by config.store ("sqlite" under config.data_dir, or a postgres:// URL).
// On failure returns nullptr and sets `error` to a sentence for the operator.
std::unique_ptr<Store> open_store(const ServerConfig& config, std::string& error);

}  // namespace harvest::store
