/* readfile.c: reading a whole file, and resolving a file named in another
 * (see readfile.h). */
#include "readfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int readfile_all(const char *path, size_t max, char **out, size_t *len, char *err, size_t err_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*len = 0;
	if (f == NULL) {
		snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - n < 4096) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *grown = realloc(buf, ncap);
			if (grown == NULL) {
				snprintf(err, err_len, "%s: out of memory", path);
				goto fail;
			}
			buf = grown;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (max > 0 && n > max) {
			snprintf(err, err_len, "%s: larger than %zu bytes", path, max);
			goto fail;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
fail:
	free(buf);
	fclose(f);
	return -1;
}

char *readfile_path_beside(const char *beside, const char *name)
{
	const char *slash = strrchr(beside, '/');

	if (name[0] == '/' || slash == NULL)
		return strdup(name);
	size_t dir_len = (size_t)(slash - beside);
	size_t len = dir_len + 1 + strlen(name) + 1;
	char *joined = malloc(len);
	if (joined == NULL)
		return NULL;
	if (dir_len == 0)
		snprintf(joined, len, "/%s", name);
	else
		snprintf(joined, len, "%.*s/%s", (int)dir_len, beside, name);
	return joined;
}
