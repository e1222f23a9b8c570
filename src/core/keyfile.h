/*
 * keyfile.h - Ed25519 key files (node key, faucet key, user keys).
 *
 * A key file is one line of text: "pel-ed25519-seed " + 64 hex digits of
 * the 32-byte seed + "\n", created with mode 0600 and never overwritten.
 * Loading refuses a file that others can read or write (mode & 077), like
 * ssh does, so a key is not silently used from an exposed file.
 *
 * Thread safety: no shared state.
 */
#ifndef PEL_KEYFILE_H
#define PEL_KEYFILE_H

#include <stdint.h>

#include "core/err.h"
#include "core/sign.h"

/* pel_keyfile_create - generate a fresh key and write it to `path`
 * (O_CREAT|O_EXCL, mode 0600, fsync'd). pk/sk may be NULL.
 * @return 0, PEL_EEXIST (file exists), PEL_EIO, PEL_ECRYPTO. */
int pel_keyfile_create(const char *path, uint8_t pk[PEL_PUBKEY_LEN],
                       uint8_t sk[PEL_SECKEY_LEN]) PEL_MUST_USE PEL_NONNULL(1);

/* pel_keyfile_load - read a key file. err (if non-NULL, errlen > 0) gets a
 * message: missing, permissions too open, malformed.
 * @return 0, PEL_ENOTFOUND, PEL_EACCESS (mode), PEL_EINVAL (format), PEL_EIO.
 * sk is wiped on failure. */
int pel_keyfile_load(const char *path, uint8_t pk[PEL_PUBKEY_LEN], uint8_t sk[PEL_SECKEY_LEN],
                     char *err, unsigned errlen) PEL_MUST_USE PEL_NONNULL(1, 2, 3);

#endif
