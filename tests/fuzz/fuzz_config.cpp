// Config file JSON and command-line parsing never crash, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  harvest::ServerConfig config;
  harvest::apply_config_json(text, config);

  // The same bytes as argv: split on NUL.
  std::vector<std::string> args;
  std::string cur;
  for (char c : text) {
    if (c == '\0') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  args.push_back(cur);
  for (auto& a : args) {
    if (a.rfind("--config", 0) == 0) a = "--help";  // never read files named by the fuzzer
  }
  harvest::parse_command_line(args, std::nullopt);
  return 0;
}
