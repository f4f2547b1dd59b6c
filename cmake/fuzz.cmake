# The libFuzzer targets (-DKA_FUZZ=ON, with clang; scripts/fuzz.sh builds them into build-fuzz/).
#
# Every target is one src/**/NAME_fuzz.cc beside the code it tests, declared below with
#   ka_fuzz_target(NAME_fuzz SOURCES <the product sources it needs> [LIBS <libraries>])
# Only those sources are built, once each, into the static library ka_fuzz_parsers (a target
# links the objects it uses out of it), all with ASan + UBSan and libFuzzer's coverage
# instrumentation. scripts/fuzz.sh runs every *_fuzz executable it finds in build-fuzz/, with
# the seed corpus tests/fuzz/corpus/NAME_fuzz/ (NAME_fuzz: the target's name).
#
# Adding a target, e.g. for src/chain/frame.cc: write src/chain/frame_fuzz.cc
# (LLVMFuzzerTestOneInput) and add here
#   ka_fuzz_target(frame_fuzz SOURCES src/chain/frame.cc)
# plus a few seed files in tests/fuzz/corpus/frame_fuzz/.

if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "KA_FUZZ needs clang (libFuzzer): cmake -DKA_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ ...")
endif()

find_package(PkgConfig REQUIRED)
pkg_check_modules(ARCHIVE REQUIRED IMPORTED_TARGET libarchive)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
find_package(fmt REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)

set(KA_FUZZ_SANITIZERS address,undefined)
add_compile_options(-fsanitize=fuzzer-no-link,${KA_FUZZ_SANITIZERS} -fno-omit-frame-pointer
                    -fno-sanitize-recover=undefined)
add_link_options(-fsanitize=${KA_FUZZ_SANITIZERS})

# Sources every target may use (status, strings, escaping).
set(KA_FUZZ_COMMON_SOURCES src/util/status.cc src/util/strings.cc src/util/escape.cc src/util/units.cc)

function(ka_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  file(GLOB_RECURSE file CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}.cc)
  list(LENGTH file found)
  if(NOT found EQUAL 1)
    message(FATAL_ERROR "ka_fuzz_target(${name}): expected one src/**/${name}.cc, found ${found}")
  endif()
  add_executable(${name} ${file})
  target_link_libraries(${name} PRIVATE ka_fuzz_parsers ${F_LIBS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
  set_property(GLOBAL APPEND PROPERTY KA_FUZZ_PARSER_SOURCES ${F_SOURCES})
  set_property(GLOBAL APPEND PROPERTY KA_FUZZ_TARGET_FILES ${file})
endfunction()

ka_fuzz_target(desc_parser_fuzz SOURCES src/layout/desc_parser.cc src/layout/desc_writer.cc
               src/layout/part_type.cc src/layout/layout.cc)
ka_fuzz_target(fstab_fuzz SOURCES src/golden/fstab.cc)
ka_fuzz_target(mountinfo_fuzz SOURCES src/golden/mountinfo.cc)
ka_fuzz_target(manifest_fuzz SOURCES src/format/manifest.cc)
ka_fuzz_target(stream_format_fuzz SOURCES src/format/stream_format.cc)
ka_fuzz_target(tree_extract_fuzz SOURCES src/node/tree_extract.cc LIBS PkgConfig::ARCHIVE)
ka_fuzz_target(identity_fuzz SOURCES src/node/identity.cc)
ka_fuzz_target(efibootmgr_listing_fuzz SOURCES src/node/efibootmgr_listing.cc)
ka_fuzz_target(esp_files_fuzz SOURCES src/golden/esp_files.cc src/format/manifest.cc)
ka_fuzz_target(pe_signature_fuzz SOURCES src/netboot/pe_signature.cc)
ka_fuzz_target(build_info_fuzz SOURCES src/netboot/build_info.cc LIBS nlohmann_json::nlohmann_json)
ka_fuzz_target(stage1_params_fuzz SOURCES src/netboot/stage1_params.cc src/crypto/key_file.cc src/crypto/private_file.cc
               src/crypto/sodium_init.cc LIBS PkgConfig::SODIUM)
ka_fuzz_target(serve_config_fuzz SOURCES src/cli/serve_config.cc)
ka_fuzz_target(frame_fuzz SOURCES src/chain/frame.cc src/chain/message.cc src/util/net.cc)
ka_fuzz_target(messages_fuzz SOURCES src/chain/messages.cc src/chain/fields.cc src/chain/frame.cc)
ka_fuzz_target(bottleneck_fuzz SOURCES src/chain/bottleneck.cc)
ka_fuzz_target(consumer_fuzz SOURCES src/chain/consumer.cc src/chain/ring.cc src/chain/stream_seal.cc
               src/chain/frame.cc src/crypto/aead.cc src/crypto/sha256.cc src/util/anon_memory.cc
               LIBS PkgConfig::SODIUM OpenSSL::Crypto)
ka_fuzz_target(link_watcher_fuzz SOURCES src/chain/link_watcher.cc src/chain/channel.cc src/chain/freeze_detector.cc
               src/chain/messages.cc src/chain/fields.cc src/chain/frame.cc src/chain/message.cc src/util/net.cc
               LIBS PkgConfig::SODIUM)
ka_fuzz_target(snapshot_fuzz SOURCES src/control/snapshot.cc src/control/text.cc src/control/status_table.cc
               src/control/metrics.cc)

# Every *_fuzz.cc must be declared above (else scripts/fuzz.sh would silently skip it).
file(GLOB_RECURSE all_fuzz CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/*_fuzz.cc)
get_property(declared GLOBAL PROPERTY KA_FUZZ_TARGET_FILES)
foreach(f ${all_fuzz})
  if(NOT f IN_LIST declared)
    get_filename_component(n ${f} NAME_WE)
    message(FATAL_ERROR "${f} is not declared in cmake/fuzz.cmake: add ka_fuzz_target(${n} SOURCES ...)")
  endif()
endforeach()

get_property(parser_sources GLOBAL PROPERTY KA_FUZZ_PARSER_SOURCES)
list(APPEND parser_sources ${KA_FUZZ_COMMON_SOURCES})
list(REMOVE_DUPLICATES parser_sources)
add_library(ka_fuzz_parsers STATIC ${parser_sources})
target_include_directories(ka_fuzz_parsers PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(ka_fuzz_parsers PUBLIC PkgConfig::ZSTD fmt::fmt nlohmann_json::nlohmann_json Threads::Threads)
