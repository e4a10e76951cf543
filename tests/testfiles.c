/* testfiles.c: the unit suites' throwaway folder (see testfiles.h). */
#include "testfiles.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

char test_dir[TEST_DIR_MAX];

void test_dir_create(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(test_dir, sizeof test_dir, "%s/hotline-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp",
		 program_invocation_short_name);
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
}

void test_dir_remove(void)
{
	char cmd[TEST_DIR_MAX + 16];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
	ck_assert_int_eq(system(cmd), 0);
}

const char *test_write_file(const char *name, const char *text)
{
	static char path[TEST_DIR_MAX + 256];

	snprintf(path, sizeof path, "%s/%s", test_dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}
