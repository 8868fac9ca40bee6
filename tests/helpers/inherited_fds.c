#define _GNU_SOURCE
#include "inherited_fds.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

void inherited_fds(char* out, size_t size, const char* when_none) {
  snprintf(out, size, "%s", when_none);
  DIR* dir = opendir("/proc/self/fd");
  if (dir == NULL) {
    snprintf(out, size, "error");
    return;
  }
  size_t used = 0;
  for (struct dirent* entry; (entry = readdir(dir)) != NULL;) {
    if (entry->d_name[0] == '.') continue;
    int fd = atoi(entry->d_name);
    if (fd <= 2 || fd == dirfd(dir)) continue;
    int n = snprintf(out + used, size - used, "%s%d", used ? "," : "", fd);
    if (n < 0 || (size_t)n >= size - used) break;
    used += (size_t)n;
  }
  closedir(dir);
}
