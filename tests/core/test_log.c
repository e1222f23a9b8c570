/* test_log.c - log levels, line format, and filtering (stderr captured in
 * a temporary file). */
#include <unistd.h>

#include "core/log.h"
#include "test.h"

static FILE *cap;
static int saved_fd;

static void capture_start(void)
{
    fflush(stderr);
    cap = tmpfile();
    saved_fd = dup(2);
    dup2(fileno(cap), 2);
}

/* Restores stderr and returns what was written (static buffer). */
static const char *capture_end(void)
{
    static char text[4096];
    fflush(stderr);
    dup2(saved_fd, 2);
    close(saved_fd);
    rewind(cap);
    size_t n = fread(text, 1, sizeof text - 1, cap);
    text[n] = '\0';
    fclose(cap);
    return text;
}

static void levels_filter_and_format(void)
{
    pel_log_set_level(PEL_LOG_WARN);
    CHECK_EQ_INT(pel_log_get_level(), PEL_LOG_WARN);
    capture_start();
    pel_log(PEL_LOG_ERROR, "disk %s", "full");
    pel_log(PEL_LOG_WARN, "slow block %d", 7);
    pel_log(PEL_LOG_INFO, "hidden");
    pel_log(PEL_LOG_DEBUG, "hidden");
    const char *out = capture_end();
    CHECK(strcmp(out, "pel ERROR: disk full\npel WARN: slow block 7\n") == 0);
}

static void level_is_clamped(void)
{
    pel_log_set_level(99);
    CHECK_EQ_INT(pel_log_get_level(), PEL_LOG_DEBUG);
    pel_log_set_level(-5);
    CHECK_EQ_INT(pel_log_get_level(), PEL_LOG_ERROR);
    capture_start();
    pel_log(-1, "bogus level dropped");
    pel_log(7, "bogus level dropped");
    CHECK(strcmp(capture_end(), "") == 0);
    pel_log_set_level(PEL_LOG_INFO);
}

static void long_lines_truncated_but_terminated(void)
{
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    capture_start();
    pel_log(PEL_LOG_ERROR, "%s", big);
    const char *out = capture_end();
    CHECK_EQ_INT(strlen(out), PEL_LOG_LINE_MAX - 1);
    CHECK(out[strlen(out) - 1] == '\n');
}

int main(void)
{
    RUN(levels_filter_and_format);
    RUN(level_is_clamped);
    RUN(long_lines_truncated_but_terminated);
    return TEST_END("test_log");
}
