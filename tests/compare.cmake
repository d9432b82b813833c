# Runs EXE and compares its standard output with EXPECTED, byte for byte.
# If STDERR_FIRST is given, the program's standard error must contain the
# failure named on that file's line (after "Exception: " or the class name).
# EMULATOR runs cross-built programs (qemu-aarch64 when cross-compiling).
execute_process(COMMAND ${EMULATOR} ${EXE}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
file(READ ${EXPECTED} want)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} exited with ${rc}\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(NOT out STREQUAL want)
  message(FATAL_ERROR "output differs\n--- expected\n${want}--- got\n${out}--- stderr\n${err}")
endif()
if(STDERR_FIRST)
  file(READ ${STDERR_FIRST} first)
  string(REGEX REPLACE "^.*Exception: " "" msg "${first}")
  string(STRIP "${msg}" msg)
  string(FIND "${err}" "${msg}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "stderr does not name the failure '${msg}':\n${err}")
  endif()
  string(FIND "${err}" "kin: uncaught failure in coroutine" pos2)
  if(pos2 EQUAL -1)
    message(FATAL_ERROR "stderr lacks the default handler's line:\n${err}")
  endif()
endif()
