/*
 * tmpdir.h - temporary directories for tests that need a store on disk.
 * Include after test.h (test_rmdir_all counts one check).
 */
#ifndef PEL_TEST_TMPDIR_H
#define PEL_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* test_tmpdir - a fresh directory /tmp/<prefix>XXXXXX (malloc'd path);
 * exits the test if it cannot be made. */
static inline char *test_tmpdir(const char *prefix)
{
    char tmpl[256];
    snprintf(tmpl, sizeof tmpl, "/tmp/%sXXXXXX", prefix);
    char *d = mkdtemp(tmpl);
    if (!d) { perror("mkdtemp"); exit(1); }
    return strdup(d);
}

static inline int test_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st; (void)flag; (void)f;
    return remove(p);
}

/* test_rmdir_all - remove dir and everything in it, and free the path. */
static inline void test_rmdir_all(char *dir)
{
    CHECK_EQ_INT(nftw(dir, test_rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
    free(dir);
}

#endif
