# Crash safety (kill -9 during a sale) and floods, against the real server binary over real
# sockets (node + npm ws). The long soak is the same script with SOAK_SECONDS=600 (see
# docs/reliability.md "Crash safety").
find_program(NODE_BIN node)
if(NODE_BIN)
  set(_faults_env "HARVEST_SERVER_BIN=$<TARGET_FILE:harvest-server>;ASAN_OPTIONS=detect_leaks=0:abort_on_error=1")
  # CI variant: 75 s, 3 kills, SQLite.
  add_test(NAME faults.crash_soak COMMAND ${NODE_BIN} ${CMAKE_CURRENT_SOURCE_DIR}/js/crash_soak.mjs)
  set_tests_properties(faults.crash_soak PROPERTIES LABELS "faults;integration" TIMEOUT 240
    ENVIRONMENT "${_faults_env};SOAK_SECONDS=75;SOAK_KILLS=3")
  # The same on PostgreSQL (a real server started by the test): 60 s, 3 kills. The long one:
  # SOAK_STORE=postgres SOAK_SECONDS=600 node tests/faults/js/crash_soak.mjs.
  add_test(NAME faults.crash_soak_pg COMMAND ${NODE_BIN} ${CMAKE_CURRENT_SOURCE_DIR}/js/crash_soak.mjs)
  set_tests_properties(faults.crash_soak_pg PROPERTIES LABELS "faults;integration" TIMEOUT 240
    ENVIRONMENT "${_faults_env};SOAK_SECONDS=60;SOAK_KILLS=3;SOAK_STORE=postgres")
  # Thousands of websockets: the test and the server it starts need the descriptors (the
  # test fails with a sentence when it has too few).
  foreach(t floods)
    add_test(NAME faults.${t} COMMAND sh -c "ulimit -n 20000 2>/dev/null || ulimit -n $(ulimit -Hn); exec \"$0\" \"$1\""
             ${NODE_BIN} ${CMAKE_CURRENT_SOURCE_DIR}/js/${t}.mjs)
    set_tests_properties(faults.${t} PROPERTIES LABELS "faults;integration" TIMEOUT 240 ENVIRONMENT "${_faults_env}")
  endforeach()
endif()
# The rest of the floods (floods2): SRT and WHIP session floods (SRT callers through libsrt from
# tests/faults/srt_flood.py, python3 + ctypes), and the per-address HTTP request budget.
if(NODE_BIN)
  foreach(t ingest_floods http_budget)
    add_test(NAME faults.${t} COMMAND ${NODE_BIN} ${CMAKE_CURRENT_SOURCE_DIR}/js/${t}.mjs)
    set_tests_properties(faults.${t} PROPERTIES LABELS "faults;integration" TIMEOUT 180 ENVIRONMENT "${_faults_env}")
  endforeach()
endif()
