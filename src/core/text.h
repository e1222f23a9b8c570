/*
 * text.h - checks on human-readable text that goes on chain (titles,
 * outcome names): valid UTF-8 and nothing that could hide or fake a line.
 *
 * Thread safety: pure functions.
 */
#ifndef PEL_TEXT_H
#define PEL_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* pel_text_printable - 1 if p[0..n) is valid UTF-8 (shortest forms, no
 * surrogates, <= U+10FFFF) with no control character (C0, DEL, C1), else
 * 0. n 0 is valid (callers check lengths). */
int pel_text_printable(const uint8_t *p, size_t n);

#endif
