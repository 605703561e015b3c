// Metrics: a Histogram::Batch merged into a histogram renders exactly like the same
// observations made on the histogram directly, and is empty afterwards.
#include <catch2/catch.hpp>

#include <string>

#include "core/metrics.h"

using harvest::Histogram;

namespace {
std::string rendered(const Histogram& h) {
  std::string out;
  h.render(out, "x", "test");
  return out;
}
}  // namespace

TEST_CASE("a batch merged into a histogram counts like direct observations", "[metrics]") {
  const std::vector<double> bounds{0.001, 0.01, 0.1};
  const std::vector<double> values{0.0005, 0.002, 0.002, 0.05, 0.5, 0.01};
  Histogram direct(bounds);
  Histogram merged(bounds);
  Histogram::Batch batch(merged);
  for (double v : values) {
    direct.observe(v);
    batch.observe(v);
  }
  CHECK(merged.count() == 0);  // nothing shows before the merge
  merged.merge(batch);
  CHECK(rendered(merged) == rendered(direct));
  CHECK(merged.count() == values.size());

  // The batch was emptied: merging it again adds nothing; new observations add up.
  merged.merge(batch);
  CHECK(merged.count() == values.size());
  batch.observe(0.02);
  direct.observe(0.02);
  merged.merge(batch);
  CHECK(rendered(merged) == rendered(direct));
}
