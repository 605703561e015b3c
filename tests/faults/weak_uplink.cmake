# Weak uplinks: the real server under broken networks, made by the tests themselves.
#   faults.weak_uplink.{rtmp,srt,whip} (label faults): a publisher in its own network namespace
#   on a shaped link (5 % loss, 150 +- 50 ms, 2 Mbit/s) and a 20 s outage; the HLS stays
#   playable, ONE discontinuity, the same playlist continues (weak_uplink.py, docs/reliability.md
#   "Weak uplinks"). Needs root and iproute2; the figures come from bench/ingest/weak_uplink.py.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
# The WHIP publisher (webrtcbin, a browser's sender) of the WHIP benchmark; the test build has
# no bench/, so it is built here too when bench/ is not.
if(NOT TARGET bench_whip_publisher)
  add_executable(bench_whip_publisher ${PROJECT_SOURCE_DIR}/bench/webrtc/whip_publisher.cpp)
  target_link_libraries(bench_whip_publisher PRIVATE PkgConfig::GST)
  harvest_strict(bench_whip_publisher)
endif()
foreach(protocol rtmp srt whip)
  add_test(NAME faults.weak_uplink.${protocol}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/weak_uplink.py
                   --server $<TARGET_FILE:harvest-server> --whip-publisher $<TARGET_FILE:bench_whip_publisher>
                   --protocol ${protocol})
  # One core each: the three run side by side (ctest -j3) in about a minute; each makes its own
  # namespace, link and server on free ports.
  set_tests_properties(faults.weak_uplink.${protocol} PROPERTIES LABELS faults TIMEOUT 240 PROCESSORS 1)
endforeach()
