/*
 * log.h - minimal leveled logging to stderr.
 *
 * One line per call: "pel <LEVEL>: message\n". Messages above the current
 * level are dropped cheaply. The level is a process-wide atomic (the one
 * piece of mutable global state here, set once by the CLI from --verbose).
 *
 * Thread safety: every function is thread-safe. Each line is formatted into
 * a local buffer and written with a single fputs(), which stdio locks, so
 * lines from different threads never interleave. Lines longer than
 * PEL_LOG_LINE_MAX are truncated.
 */
#ifndef PEL_LOG_H
#define PEL_LOG_H

#include "core/err.h"

#define PEL_LOG_LINE_MAX 1024

typedef enum pel_log_level {
    PEL_LOG_ERROR = 0,
    PEL_LOG_WARN = 1,
    PEL_LOG_INFO = 2,
    PEL_LOG_DEBUG = 3,
} pel_log_level;

/* pel_log_set_level - show messages at `level` and more severe ones.
 * Out-of-range values are clamped. Default: PEL_LOG_INFO. */
void pel_log_set_level(int level);

/* pel_log_get_level - the current level. */
int pel_log_get_level(void);

/* pel_log - printf-style message at `level` (a pel_log_level). */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void pel_log(int level, const char *fmt, ...) PEL_NONNULL(2);

#endif
