// Prints the QR symbol of each argument for tests/plugins/js/qr_jsqr.mjs (which decodes it
// with jsQR): one JSON line per argument, {"version", "mask", "rows": ["0101...", ...]}.
// `--mask N` before the texts forces mask N. Exit 1 when a text does not fit.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "qr_code.h"

int main(int argc, char** argv) {
  int mask = -1;
  int first = 1;
  if (argc > 2 && std::string(argv[1]) == "--mask") {
    mask = std::atoi(argv[2]);
    first = 3;
  }
  for (int a = first; a < argc; ++a) {
    auto qr = harvest::livecommerce::QrCode::encode(argv[a], mask);
    if (!qr) {
      std::printf("{\"error\":\"too long\"}\n");
      return 1;
    }
    std::string rows;
    for (int y = 0; y < qr->size(); ++y) {
      rows += y == 0 ? "\"" : ",\"";
      for (int x = 0; x < qr->size(); ++x) rows += qr->dark(x, y) ? '1' : '0';
      rows += '"';
    }
    std::printf("{\"version\":%d,\"mask\":%d,\"rows\":[%s]}\n", qr->version(), qr->mask(), rows.c_str());
  }
  return 0;
}
