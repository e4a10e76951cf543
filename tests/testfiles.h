/* testfiles.h: a throwaway folder for a unit suite's files, made before
 * each test and removed after it (a Check checked fixture), and files
 * written into it. Only for the Check suites: failures are Check
 * assertions. */
#ifndef HOTLINE_TESTFILES_H
#define HOTLINE_TESTFILES_H

#define TEST_DIR_MAX 256

/* The folder of the running test: $TMPDIR (or /tmp) + "/hotline-<program>-XXXXXX". */
extern char test_dir[TEST_DIR_MAX];

/* The fixture: tcase_add_checked_fixture(tc, test_dir_create, test_dir_remove). */
void test_dir_create(void);
void test_dir_remove(void);

/* Writes text to name inside test_dir (its folders must exist); returns
 * the path, in a static buffer that the next call overwrites. */
const char *test_write_file(const char *name, const char *text);

#endif
