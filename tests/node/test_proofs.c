/*
 * test_proofs.c - proofs from a real node, end to end, the way a person
 * gets and checks them: `pel prove` against a running node writes proof
 * files, `pel verify` checks them with nothing but the verifier key (the
 * node may be gone), and the independent Python verifier
 * (tools/pelverify.py, when python3 is there) reaches the same verdict on
 * every file, valid or tampered.
 *
 * Checks: tx, state (present, absent, at a past height) and consistency
 * (from 0, between heights, equal heights) proofs verify and say what they
 * prove; every single hex digit changed in every hash of a file, the
 * height/index/leaf numbers moved by one, and a wrong key are rejected by
 * both verifiers; bad requests (unknown tx, height beyond the head, OLD >
 * NEW, an existing --out file) fail with a message and exit status 1 or 2.
 */
#include "test.h"
#include "node_harness.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "core/file.h"
#include "state/checkpoint.h"

static harness H;
static char out[65536];
static char vkey[400];
static char files[64][300];
static int n_files;
static int have_python;

static int cli(const char *const *args) { return h_run(&H, out, sizeof out, args); }

/* Run python3 tools/pelverify.py verify FILE --key K; its exit status. */
static int py_verify(const char *file, const char *key)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); }
        execlp("python3", "python3", "tools/pelverify.py", "verify", file, "--key", key, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void prove(const char *const *args, const char *name)
{
    const char *a[16];
    int n = 0;
    snprintf(files[n_files], sizeof files[0], "%s/%s.json", H.dir, name);
    for (int i = 0; args[i]; i++) a[n++] = args[i];
    a[n++] = "--out"; a[n++] = files[n_files]; a[n++] = "--rpc"; a[n++] = H.url; a[n] = NULL;
    int rc = cli(a);
    if (rc) fprintf(stderr, "pel prove %s: rc %d\n", name, rc);
    CHECK_EQ_INT(rc, 0);
    n_files++;
}

/* pel verify FILE: exit status, out holds what it printed */
static int verify(const char *file, const char *key)
{
    const char *a[] = { "verify", file, "--key", key, NULL };
    return cli(a);
}

static h_key k[3];
static uint8_t ids[8][32];
static char idhex[8][65];

static void setup_chain(void)
{
    cJSON *info = h_call(&H, "node_info", NULL);
    CHECK(info && h_str(info, "verifier_key")[0]);
    snprintf(vkey, sizeof vkey, "%s", info ? h_str(info, "verifier_key") : "");
    cJSON_Delete(info);
    for (int i = 0; i < 6; i++) {           /* several blocks: wait for each */
        cJSON *p = h_addr_params(&k[i % 3].addr);
        cJSON_AddStringToObject(p, "amount", "1000");
        cJSON *r = h_call(&H, "faucet", p);
        size_t n;
        CHECK(r && pel_hex_decode(h_str(r, "id"), 64, ids[i], 32, &n) == 0);
        CHECK(r && h_wait_committed(&H, ids[i], 10) == 0);
        pel_hex_encode(ids[i], 32, idhex[i]);
        cJSON_Delete(r);
    }
}

static void valid_proofs_verify(void)
{
    char addr[PEL_ADDR_STR_LEN + 1];
    pel_addr_format(&k[1].addr, addr);
    for (int i = 0; i < 6; i++) {
        const char *a[] = { "prove", "tx", idhex[i], NULL };
        char name[16];
        snprintf(name, sizeof name, "tx%d", i);
        prove(a, name);
    }
    const char *s1[] = { "prove", "state", addr, NULL };
    prove(s1, "state");
    const char *s2[] = { "prove", "state", addr, "--field", "nonce", NULL };
    prove(s2, "nonce-absent");                       /* faucet-funded: never sent */
    const char *s3[] = { "prove", "state", addr, "--at", "1", NULL };
    prove(s3, "state-at-1");
    const char *s4[] = { "prove", "state", "00000000000000000000000000000000000000000000000000000000000000ff", NULL };
    prove(s4, "state-absent");
    const char *c1[] = { "prove", "consistency", "0", "latest", NULL };
    prove(c1, "cons-0");
    const char *c2[] = { "prove", "consistency", "2", "5", NULL };
    prove(c2, "cons-2-5");
    const char *c3[] = { "prove", "consistency", "3", "3", NULL };
    prove(c3, "cons-3-3");
    /* the node is not needed any more */
    CHECK_EQ_INT(h_stop(&H, SIGTERM), 0);
    for (int i = 0; i < n_files; i++) {
        int rc = verify(files[i], vkey);
        if (rc) fprintf(stderr, "%s: %s\n", files[i], out);
        CHECK_EQ_INT(rc, 0);
        CHECK(strncmp(out, "OK: ", 4) == 0);
        if (have_python) CHECK_EQ_INT(py_verify(files[i], vkey), 0);
    }
    CHECK_EQ_INT(verify(files[0], vkey), 0);
    CHECK(strstr(out, idhex[0]) != NULL);
    CHECK_EQ_INT(verify(files[7], vkey), 0);        /* nonce-absent */
    CHECK(strstr(out, "has no value") != NULL);
    CHECK_EQ_INT(verify(files[8], vkey), 0);        /* state-at-1 */
    CHECK(strstr(out, "after block 1,") != NULL);
}

/* Write a copy of src with the byte at `at` replaced by c. */
static void write_variant(const char *src, const char *dst, size_t at, char c)
{
    char *text = NULL;
    size_t len = 0;
    CHECK_EQ_INT(pel_read_file(src, 1 << 20, &text, &len), 0);
    if (!text) return;
    if (at < len) text[at] = c;
    unlink(dst);
    CHECK_EQ_INT(pel_write_file_excl(dst, text, len, 0644), 0);
    free(text);
}

/* Change each hex digit inside every 64-digit hash string of each file
 * (and the digits of the numbers): both verifiers must reject every one. */
static void tampering_rejected(void)
{
    char dst[320];
    int tried = 0, retargeted = 0;
    size_t stride = test_env_u64("PEL_TEST_ITERS", 1000) >= 2000 ? 1 : 11;
    snprintf(dst, sizeof dst, "%s/tampered.json", H.dir);
    for (int f = 0; f < n_files; f++) {
        char *text = NULL;
        size_t len = 0;
        CHECK_EQ_INT(pel_read_file(files[f], 1 << 20, &text, &len), 0);
        if (!text) continue;
        for (size_t i = 0; i + 1 < len; i++) {
            int in_hash = i >= 1 && text[i - 1] != '\\' && isxdigit((unsigned char)text[i]);
            if (!in_hash) continue;
            /* every 11th digit keeps the test short (PEL_TEST_ITERS >= 2000,
             * as `make soak` sets it: every digit); numbers always */
            int number = i >= 1 && text[i - 1] == '"' && text[i + 1] == '"';
            if (!number && (i % stride) != 0) continue;
            char c = text[i] == '0' ? '1' : text[i] == '9' ? '8' : text[i] == 'f' ? 'e' : (char)(text[i] + 1);
            if (number && text[i] == '0') continue;      /* "0" -> "1" may stay valid for a number */
            write_variant(files[f], dst, i, c);
            int rc = verify(dst, vkey);
            /* A non-inclusion proof ending in an empty slot proves the
             * absence of every key whose path shares the walked prefix: a
             * changed key may be such a key, and then the file is a true
             * proof about it (it must say so, and name that key). */
            const char *kl = strstr(text, "\"key\": \"");
            size_t ko = kl ? (size_t)(kl - text) + 8 : 0;
            if (rc == 0 && kl && i >= ko && i < ko + 64 && strstr(out, "has no value")) {
                retargeted++;
                continue;
            }
            if (rc != 1) fprintf(stderr, "%s: byte %zu '%c'->'%c' accepted: %s\n", files[f], i, text[i], c, out);
            CHECK_EQ_INT(rc, 1);
            if (have_python && (tried % 5) == 0) CHECK_EQ_INT(py_verify(dst, vkey), 1);
            tried++;
        }
        free(text);
    }
    CHECK(tried > 120);
    CHECK(retargeted < 8);
    /* another key: same name, other key -> unknown signer */
    uint8_t pk[32], sk[64], seed[32];
    char other[400];
    memset(seed, 0x42, 32);
    CHECK_EQ_INT(pel_sign_seed_keypair(pk, sk, seed), 0);
    char name[sizeof vkey];
    memcpy(name, vkey, sizeof vkey);
    *strchr(name, '+') = 0;
    CHECK_EQ_INT(pel_note_verifier_format(name, pk, other, sizeof other), 0);
    CHECK_EQ_INT(verify(files[0], other), 1);
    CHECK(strstr(out, "FAILED") != NULL);
    if (have_python) CHECK_EQ_INT(py_verify(files[0], other), 1);
    CHECK_EQ_INT(verify(files[0], "not-a-key"), 2);
}

static void bad_requests(void)
{
    CHECK_EQ_INT(h_start(&H, NULL), 0);
    CHECK_EQ_INT(h_wait_ready(&H, 20), 0);
    const char *a1[] = { "prove", "tx", "00000000000000000000000000000000000000000000000000000000000000aa", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(a1), 1);
    const char *a2[] = { "prove", "state", "pel1nothex", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(a2), 1);
    const char *a3[] = { "prove", "state", "00000000000000000000000000000000000000000000000000000000000000ff", "--at", "99999", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(a3), 1);
    const char *a4[] = { "prove", "consistency", "3", "1", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(a4), 1);
    const char *a5[] = { "prove", "tx", idhex[0], "--out", files[0], "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(a5), 1);                         /* never overwrites */
    const char *a6[] = { "prove", "consistency", "1", NULL };
    CHECK_EQ_INT(cli(a6), 2);
    const char *a7[] = { "verify", files[0], NULL };
    CHECK_EQ_INT(cli(a7), 2);                         /* no key */
}

int main(int argc, char **argv)
{
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    struct stat st;
    have_python = stat("tools/pelverify.py", &st) == 0 && system("python3 -c 1 >/dev/null 2>&1") == 0;
    if (!have_python) fprintf(stderr, "test_proofs: python3 or tools/pelverify.py not found, C verifier only\n");
    if (h_init(&H, argv[0], "proofs-chain")) { fprintf(stderr, "cannot set up\n"); return 1; }
    for (int i = 0; i < 3; i++) h_key_make(&k[i], 200 + (uint32_t)i);
    const char *extra[] = { "--block-interval-ms", "20", NULL };
    if (h_start(&H, extra) || h_wait_ready(&H, 20)) {
        fprintf(stderr, "node did not start\n");
        CHECK(0);
    } else {
        RUN(setup_chain);
        RUN(valid_proofs_verify);
        RUN(tampering_rejected);
        RUN(bad_requests);
    }
    h_cleanup(&H);
    return TEST_END("test_proofs");
}
