// What a test child inherited: shared by the helper programs.
#pragma once

#include <stddef.h>

// Writes "3,7,12" to `out`: the open descriptors other than 0, 1, 2 and the
// one reading the list; `when_none` when there are none, "error" when
// /proc/self/fd cannot be read. Call it before opening anything.
void inherited_fds(char* out, size_t size, const char* when_none);
