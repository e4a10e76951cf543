/* readfile.h: a whole file into memory, for the loaders of YAML files
 * (rules, calendar, profiles) and of SQL migrations; and where a file named
 * inside another one is. */
#ifndef HOTLINE_READFILE_H
#define HOTLINE_READFILE_H

#include <stddef.h>

/* Reads path into a NUL-terminated buffer (free with free()) and its length.
 * max > 0 refuses larger files. Returns 0, or -1 with "PATH: cannot open: ...",
 * "PATH: cannot read: ...", "PATH: larger than N bytes" or "PATH: out of
 * memory" in err. */
int readfile_all(const char *path, size_t max, char **out, size_t *len, char *err,
		 size_t err_len) __attribute__((warn_unused_result));

/* The file a setting names, read beside the file that names it: name itself
 * when it is absolute or when beside has no folder (then both are relative
 * to the working directory), else beside's folder + "/" + name. So a config
 * file that names "rules.yaml" finds the one next to it whatever the
 * working directory. Returns a new string (free with free()), or NULL when
 * out of memory. */
char *readfile_path_beside(const char *beside, const char *name)
	__attribute__((warn_unused_result));

#endif
