# harvest_strict(target): the project's warning set, sanitizers and fuzzing flags.
# Third-party headers (GStreamer, lws) are included as SYSTEM through pkg-config
# imported targets, so their warnings never fail our build.
set(HARVEST_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wconversion
    -Wsign-conversion -Wnull-dereference -Wimplicit-fallthrough
    -Wno-missing-field-initializers)  # C++20 designated initializers omit defaulted fields
set(HARVEST_C_WARNINGS -Wall -Wextra -Wshadow -Wno-unused-parameter)

if(HARVEST_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

function(harvest_strict target)
  get_target_property(_langs ${target} LINKER_LANGUAGE)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${HARVEST_WARNINGS}>
    $<$<COMPILE_LANGUAGE:C>:${HARVEST_C_WARNINGS}>
    $<$<BOOL:${HARVEST_WERROR}>:-Werror>)
endfunction()

# harvest_fuzzer(name source libs...): a libFuzzer target plus a ctest smoke run
# over its seed corpus (tests/fuzz/corpus/<name>) for a bounded number of runs.
function(harvest_fuzzer name source)
  if(NOT HARVEST_FUZZ)
    return()
  endif()
  add_executable(${name} ${source})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE ${ARGN})
  # New inputs go to the first directory (in the build tree); the checked-in seeds stay untouched.
  # A fixed seed: the ctest run is a regression check that fails only when the code changed; new
  # findings come from the long campaign (bench/faults/fuzz_campaign.sh), whose crashes become seeds.
  set(_seeds ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
  set(_work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${name})
  file(MAKE_DIRECTORY ${_seeds} ${_work})
  add_test(NAME fuzz.${name}
           COMMAND ${name} -seed=1 -runs=20000 -max_total_time=20 -rss_limit_mb=2048 ${_work} ${_seeds})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz)
endfunction()
