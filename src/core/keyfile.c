/*
 * keyfile.c - reading and writing Ed25519 key files (format in keyfile.h).
 */
#include "core/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/hash.h"
#include "core/hex.h"

#define PREFIX "pel-ed25519-seed "

int pel_keyfile_create(const char *path, uint8_t pk[PEL_PUBKEY_LEN], uint8_t sk[PEL_SECKEY_LEN])
{
    uint8_t seed[PEL_SEED_LEN], lpk[PEL_PUBKEY_LEN], lsk[PEL_SECKEY_LEN];
    char line[sizeof PREFIX + 2 * PEL_SEED_LEN + 2];
    int rc = pel_crypto_init();
    if (rc) return rc;
    randombytes_buf(seed, sizeof seed);
    rc = pel_sign_seed_keypair(lpk, lsk, seed);
    if (rc) goto out;
    memcpy(line, PREFIX, sizeof PREFIX - 1);
    pel_hex_encode(seed, sizeof seed, line + sizeof PREFIX - 1);
    strcat(line, "\n");
    rc = pel_write_file_excl(path, line, strlen(line), 0600);
    if (!rc && pk) memcpy(pk, lpk, sizeof lpk);
    if (!rc && sk) memcpy(sk, lsk, sizeof lsk);
out:
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(lsk, sizeof lsk);
    sodium_memzero(line, sizeof line);
    return rc;
}

static int say(char *err, unsigned errlen, int rc, const char *fmt, const char *path)
{
    if (err && errlen) snprintf(err, errlen, fmt, path);
    return rc;
}

int pel_keyfile_load(const char *path, uint8_t pk[PEL_PUBKEY_LEN], uint8_t sk[PEL_SECKEY_LEN],
                     char *err, unsigned errlen)
{
    char buf[256];
    uint8_t seed[PEL_SEED_LEN];
    size_t n = 0;
    struct stat st;
    int rc;
    memset(pk, 0, PEL_PUBKEY_LEN);
    memset(sk, 0, PEL_SECKEY_LEN);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return say(err, errlen, errno == ENOENT ? PEL_ENOTFOUND : PEL_EIO,
                   "cannot open key file %s", path);
    if (fstat(fd, &st) != 0 || (st.st_mode & 077)) {
        close(fd);
        return say(err, errlen, PEL_EACCESS,
                   "key file %s is readable by others: chmod 600 it", path);
    }
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r < 0) return say(err, errlen, PEL_EIO, "cannot read key file %s", path);
    buf[r] = 0;
    size_t plen = sizeof PREFIX - 1;
    if ((size_t)r < plen + 64 || memcmp(buf, PREFIX, plen) != 0 ||
        (buf[plen + 64] != '\n' && buf[plen + 64] != 0) ||
        pel_hex_decode(buf + plen, 64, seed, sizeof seed, &n) != 0) {
        sodium_memzero(buf, sizeof buf);
        return say(err, errlen, PEL_EINVAL, "key file %s is not a pel key file", path);
    }
    sodium_memzero(buf, sizeof buf);
    rc = pel_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(seed, sizeof seed);
    return rc;
}
