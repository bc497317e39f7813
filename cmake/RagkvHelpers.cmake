# Build helpers shared by every module (modelled on leveldb_test() and
# dragonfly's helio_cxx_test()).

set(RAGKV_WARNINGS -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
if(RAGKV_WERROR)
  list(APPEND RAGKV_WARNINGS -Werror)
endif()

if(RAGKV_SANITIZE)
  add_compile_options(-fsanitize=${RAGKV_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${RAGKV_SANITIZE})
endif()

# ragkv_add_library(NAME SRCS a.cc b.cc DEPS ragkv_common ...)
# A module library; its public headers are included as "module/header.h"
# relative to src/.
function(ragkv_add_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${RAGKV_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# ragkv_add_test(NAME SRCS a_test.cc DEPS ragkv_x LABELS unit|integration|slow)
# One gtest binary per module; ctest lists each case.
function(ragkv_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_options(${name} PRIVATE ${RAGKV_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock Threads::Threads)
  target_compile_definitions(${name} PRIVATE
    RAGKV_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    RAGKV_BINARY_DIR="${PROJECT_BINARY_DIR}")
  # The sanitizer run builds only the unit-test binaries (ragkv_unit_tests).
  if("unit" IN_LIST ARG_LABELS)
    if(NOT TARGET ragkv_unit_tests)
      add_custom_target(ragkv_unit_tests)
    endif()
    add_dependencies(ragkv_unit_tests ${name})
  endif()
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()

# Adds every immediate subdirectory of the current source dir that has a
# CMakeLists.txt, in sorted order.
function(ragkv_add_all_subdirectories)
  file(GLOB children RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child} AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
