/* SPDX-License-Identifier: MIT */
/*
 * tty.h - reading secrets (OAuth secrets, PINs) from a terminal or a pipe.
 * Results are secure memory (tba_secalloc) and must be released with
 * tba_secfree(p, cap). Trailing "\n" / "\r\n" is stripped.
 */
#ifndef TBA_TTY_H
#define TBA_TTY_H

#include <stddef.h>
#include <stdio.h>

#include "tba/err.h"

#define TBA_SECRET_MAX 1024 /* longest secret or PIN line accepted */

/* Prompts on /dev/tty with echo off and reads one line. TBA_ERR_IO when there is no terminal. */
tba_err tba_tty_read_secret(const char *prompt, char **out, size_t *len, size_t *cap);

/*
 * Reads one line from fd without stdio buffering (so nothing secret is left
 * in a FILE buffer and no more than one line is consumed). End of file
 * before any byte: TBA_ERR_NOT_FOUND. Longer than TBA_SECRET_MAX: TBA_ERR_TOO_LARGE.
 */
tba_err tba_fd_read_secret(int fd, char **out, size_t *len, size_t *cap);

#endif
