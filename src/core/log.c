/* log.c - leveled logging to stderr (see log.h). */
#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Relaxed ordering: the level is an independent flag; a thread seeing the
 * old level for a moment only logs or drops one extra line. */
static atomic_int cur_level = PEL_LOG_INFO;

static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void pel_log_set_level(int level)
{
    if (level < PEL_LOG_ERROR) level = PEL_LOG_ERROR;
    if (level > PEL_LOG_DEBUG) level = PEL_LOG_DEBUG;
    atomic_store_explicit(&cur_level, level, memory_order_relaxed);
}

int pel_log_get_level(void)
{
    return atomic_load_explicit(&cur_level, memory_order_relaxed);
}

void pel_log(int level, const char *fmt, ...)
{
    if (level < PEL_LOG_ERROR || level > pel_log_get_level())
        return;
    char line[PEL_LOG_LINE_MAX];
    int n = snprintf(line, sizeof line, "pel %s: ", names[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    line[len] = '\n';
    line[len + 1] = '\0';
    fputs(line, stderr);
}
