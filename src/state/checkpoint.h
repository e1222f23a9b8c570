/*
 * checkpoint.h - C2SP signed notes and tlog checkpoints: our signed tree heads.
 *
 * For every block the node signs a checkpoint, a C2SP tlog-checkpoint
 * (c2sp.org/tlog-checkpoint) carried in a C2SP signed note
 * (c2sp.org/signed-note), so that standard tools (golang.org/x/mod/sumdb/note,
 * transparency-dev, witnesses) check it given the node's verifier key. The
 * store keeps the signed notes; the RPC serves them; witnesses may cosign.
 *
 * Signed note, byte for byte:
 *
 *     text         one or more lines, each ending in "\n"
 *     "\n"         one blank line
 *     signatures   one or more lines "— <key name> <base64(key id ‖ sig)>\n"
 *
 * "—" is U+2014 EM DASH (bytes E2 80 94), followed by one space. The whole
 * note is valid UTF-8 with no control character (below U+0020) except "\n".
 * The text is everything up to and including the newline before the LAST
 * blank line, so the text itself may hold blank lines. An Ed25519 signature
 * covers exactly the text (final newline included, blank line excluded).
 * Base64 is RFC 4648 section 4: standard alphabet, padded; we accept only
 * the canonical encoding (no stray bits in the last character).
 *
 *     key id    = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[0..4]
 *     verifier  = "<name>+<key id, 8 lowercase hex>+<base64(0x01 ‖ pk)>"
 *     signer    = "PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 ‖ seed)>"
 *
 * A key name is non-empty valid UTF-8 holding no Unicode white space (Go's
 * unicode.IsSpace), no "+" and no control character below U+0020; ours are
 * at most PEL_NOTE_NAME_MAX bytes. A key is identified by (name, key id):
 * signatures whose pair matches no known key are ignored, even when the
 * name or the id alone matches one.
 *
 * Checkpoint body (the note text), exactly six lines:
 *
 *     <origin>                "<chain-id>/pel"; also the signing key's name
 *     <tree size>             history tree size (state/history.h), decimal
 *     <root hash>             base64 of its 32-byte root
 *     height <n>              block height (extension line)
 *     state-root <hex>        state tree root, 64 lowercase hex digits
 *     timestamp-ms <n>        block time, milliseconds since the Unix epoch
 *
 * for example (chain "pel-devnet", after block 7, 42 transactions so far):
 *
 *     pel-devnet/pel
 *     42
 *     AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
 *     height 7
 *     state-root 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
 *     timestamp-ms 1700000000123
 *
 * The first three lines are the standard checkpoint, so plain checkpoint
 * verifiers accept ours; they treat the rest as opaque extension lines (the
 * spec allows them; cosignatures in the ML-DSA format do not cover them,
 * our Ed25519 note signature does). Numbers are decimal with no sign, no
 * leading zero (0 is "0") and no padding; the tree size is at most
 * INT64_MAX (Go's tlog parses it as int64), height and time any uint64.
 *
 * Interoperability is established by vectors from golang.org/x/mod/sumdb/note
 * and the C2SP texts (tests/state/test_checkpoint.c lists them).
 *
 * Thread safety: every function is thread-safe (no shared state).
 */
#ifndef PEL_CHECKPOINT_H
#define PEL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/sign.h"

#define PEL_NOTE_NAME_MAX 255   /* bytes of a key name, NUL not counted */
#define PEL_NOTE_KEY_ID_LEN 4
#define PEL_NOTE_MAX_SIGS 100   /* signature lines per note (Go's limit) */
#define PEL_NOTE_ALG_ED25519 0x01
/* Buffer sizes for the key strings, NUL included: name, "+", 8 hex, "+",
 * 44 base64 characters of 33 bytes. */
#define PEL_NOTE_VKEY_MAX (PEL_NOTE_NAME_MAX + 55)
#define PEL_NOTE_SKEY_MAX (PEL_NOTE_VKEY_MAX + 12)

/* ---------------------------------------------------------------- keys */

/* A known note key: the verifier side of one signer. */
typedef struct pel_note_verifier {
    char name[PEL_NOTE_NAME_MAX + 1];        /* NUL-terminated */
    uint8_t id[PEL_NOTE_KEY_ID_LEN];         /* key id, wire (big-endian) order */
    uint8_t pk[PEL_PUBKEY_LEN];              /* Ed25519 public key */
} pel_note_verifier;

/* A note signing key. Holds a secret: sodium_memzero() it when done. */
typedef struct pel_note_signer {
    char name[PEL_NOTE_NAME_MAX + 1];
    uint8_t id[PEL_NOTE_KEY_ID_LEN];
    uint8_t sk[PEL_SECKEY_LEN];              /* libsodium form: seed ‖ pk */
} pel_note_signer;

/* pel_note_key_id - the key id of an Ed25519 key under `name`:
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pk)[0..4]. Does not check the name. */
void pel_note_key_id(const char *name, const uint8_t pk[PEL_PUBKEY_LEN],
                     uint8_t id[PEL_NOTE_KEY_ID_LEN]) PEL_NONNULL(1, 2, 3);

/* pel_note_name_valid - 1 if `name` is a valid key name of at most
 * PEL_NOTE_NAME_MAX bytes (rules at the top of this file), else 0. */
int pel_note_name_valid(const char *name) PEL_NONNULL(1);

/* pel_note_verifier_format - write the verifier key string of (name, pk),
 * e.g. "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW".
 * @param[out] out  caller-owned, cap bytes; PEL_NOTE_VKEY_MAX always fits.
 *                  NUL-terminated on success, "" on failure (if cap > 0).
 * @return 0, PEL_ENOTE_NAME (invalid name) or PEL_ERANGE (cap too small). */
PEL_MUST_USE int pel_note_verifier_format(const char *name,
                                          const uint8_t pk[PEL_PUBKEY_LEN],
                                          char *out, size_t cap)
    PEL_NONNULL(1, 2, 3);

/* pel_note_verifier_parse - parse a verifier key string, strictly: the
 * name up to the first "+", the key id up to the next as exactly 8
 * lowercase hex digits, then (to the end; base64 may hold "+") canonical
 * base64 of exactly 33 bytes, with no trailing space or newline. The id must
 * be the one computed from name and key, and the key a valid Ed25519 point
 * (canonical, prime order: see sign.h). *out is zeroed on failure.
 * @return 0, PEL_EVKEY (layout, hex, base64 or key length), PEL_ENOTE_NAME,
 *         PEL_EVKEY_ALG (algorithm byte not 0x01), PEL_EVKEY_ID (id does
 *         not match), PEL_EBADKEY (weak or non-canonical public key). */
PEL_MUST_USE int pel_note_verifier_parse(const char *s, pel_note_verifier *out)
    PEL_NONNULL(1, 2);

/* pel_note_verifier_from_key - the verifier of (name, pk), without text.
 * @return 0, PEL_ENOTE_NAME or PEL_EBADKEY; *out zeroed on failure. */
PEL_MUST_USE int pel_note_verifier_from_key(const char *name,
                                            const uint8_t pk[PEL_PUBKEY_LEN],
                                            pel_note_verifier *out)
    PEL_NONNULL(1, 2, 3);

/* pel_note_signer_format - write "PRIVATE+KEY+<name>+<id>+<base64(0x01 ‖
 * seed)>" for the key sk (Go's signer key format, for key export). The
 * output is secret: the caller wipes it. out is wiped on failure.
 * @return 0, PEL_ENOTE_NAME, PEL_EINVAL (sk's public half does not match
 *         its seed), PEL_ERANGE (cap too small; PEL_NOTE_SKEY_MAX fits),
 *         PEL_ECRYPTO. */
PEL_MUST_USE int pel_note_signer_format(const char *name,
                                        const uint8_t sk[PEL_SECKEY_LEN],
                                        char *out, size_t cap)
    PEL_NONNULL(1, 2, 3);

/* pel_note_signer_parse - parse a signer key string with the rules of
 * pel_note_verifier_parse (plus the "PRIVATE+KEY+" prefix); the id must
 * match the public key derived from the seed. *out is wiped on failure.
 * @return 0, PEL_EVKEY, PEL_ENOTE_NAME, PEL_EVKEY_ALG, PEL_EVKEY_ID or
 *         PEL_ECRYPTO. */
PEL_MUST_USE int pel_note_signer_parse(const char *s, pel_note_signer *out)
    PEL_NONNULL(1, 2);

/* --------------------------------------------------------------- notes */

/* What pel_note_open found. Pointers point into the note passed in and stay
 * valid as long as it does. */
typedef struct pel_note_opened {
    const char *text;          /* the signed text, final "\n" included */
    size_t text_len;
    const char *sigs;          /* the signature lines, as in the note */
    size_t sigs_len;
    size_t n_sigs;             /* signature lines */
    size_t n_unknown;          /* of which by keys not in the list
                                  (repeated lines counted each time) */
    size_t n_verified;         /* distinct known keys that verified */
    size_t verified[PEL_NOTE_MAX_SIGS]; /* their indices in keys[], in the
                                           order of their first line */
} pel_note_opened;

/* pel_note_sign - make a signed note of text[0..len) with one signature.
 * The text must be non-empty, end in "\n", be valid UTF-8 and hold no
 * control character but "\n" (blank lines inside are fine: verifiers split
 * at the last one, which is the one this function adds). The key id comes
 * from the public half of sk, which must match its seed. Appends
 * text ‖ "\n" ‖ "— <name> <base64(id ‖ sig)>\n" to out; deterministic.
 * Example (the Go package's vector: PeterNeumann's key over two lines):
 *     if (pel_note_sign(txt, strlen(txt), "PeterNeumann", sk, &b)) goto fail;
 * @return 0, PEL_ENOTE_TEXT, PEL_ENOTE_NAME, PEL_EINVAL (sk inconsistent),
 *         PEL_ENOMEM, PEL_ECRYPTO. On failure out is as it was. */
PEL_MUST_USE int pel_note_sign(const char *text, size_t len, const char *name,
                               const uint8_t sk[PEL_SECKEY_LEN], pel_buf *out)
    PEL_NONNULL(3, 4, 5);

/* pel_note_add_signature - cosign: append to out the note[0..len) with one
 * more signature line by (name, sk) over its text. Existing lines are kept
 * in order, except any by the same (name, key id), which the new one
 * replaces (as Go's note.Sign does). The existing signatures are NOT
 * verified: open the note first. Checks the note's syntax as pel_note_open.
 * @return 0, PEL_ENOTE, PEL_ENOTE_TOOMANY (the result would have more than
 *         PEL_NOTE_MAX_SIGS lines), PEL_ENOTE_NAME, PEL_EINVAL, PEL_ENOMEM,
 *         PEL_ECRYPTO. On failure out is as it was. */
PEL_MUST_USE int pel_note_add_signature(const char *note, size_t len,
                                        const char *name,
                                        const uint8_t sk[PEL_SECKEY_LEN],
                                        pel_buf *out)
    PEL_NONNULL(1, 3, 4, 5);

/* pel_note_open - split a signed note and verify its signatures against
 * keys[0..n_keys) (keys may be NULL when n_keys is 0). In order:
 *  1. syntax: UTF-8 without control characters but "\n", a blank line, at
 *     least one signature line, a final "\n"; every line "— name b64" with
 *     a valid name and canonical base64 of at least 5 bytes -> PEL_ENOTE;
 *     more than PEL_NOTE_MAX_SIGS lines -> PEL_ENOTE_TOOMANY (checked
 *     before any signature, so malformed input costs no crypto);
 *  2. each line whose (name, id) matches a key is verified (strictly, see
 *     sign.h); one failure rejects the note -> PEL_ENOTE_BADSIG, also for
 *     a repeated line of a key that already verified (Go skips repeats
 *     unverified; the spec says every known key's signature is verified
 *     and a failure SHOULD reject, so we are stricter there). A valid
 *     repeat counts once. Two keys sharing name and id, when a line
 *     matches them -> PEL_ENOTE_AMBIGUOUS. Other lines are counted in
 *     n_unknown and otherwise ignored;
 *  3. no known key verified -> PEL_ENOTE_UNVERIFIED (with n_keys = 0 this
 *     is the answer for every well-formed note: a syntax check).
 * @param[out] out  zeroed on failure.
 * @return 0, PEL_ENOTE, PEL_ENOTE_TOOMANY, PEL_ENOTE_BADSIG,
 *         PEL_ENOTE_AMBIGUOUS, PEL_ENOTE_UNVERIFIED, PEL_EBADKEY (a known
 *         key that is not a valid point), PEL_ECRYPTO. */
PEL_MUST_USE int pel_note_open(const char *note, size_t len,
                               const pel_note_verifier *keys, size_t n_keys,
                               pel_note_opened *out)
    PEL_NONNULL(1, 5);

/* --------------------------------------------------------- checkpoints */

#define PEL_CKPT_ORIGIN_MAX PEL_NOTE_NAME_MAX
#define PEL_CKPT_ORIGIN_SUFFIX "/pel"

typedef struct pel_checkpoint {
    char origin[PEL_CKPT_ORIGIN_MAX + 1]; /* "<chain-id>/pel", NUL-terminated */
    uint64_t size;                   /* history tree size, <= INT64_MAX */
    uint8_t root[32];                /* RFC 9162 root hash at `size` */
    uint64_t height;                 /* block height */
    uint8_t state_root[32];          /* state tree root after the block */
    uint64_t timestamp_ms;           /* block timestamp */
} pel_checkpoint;

/* pel_checkpoint_origin - write "<chain_id>/pel" to out.
 * @return 0 or PEL_ECKPT_ORIGIN (chain_id empty, too long, or not valid in
 *         a key name); out is "" on failure. */
PEL_MUST_USE int pel_checkpoint_origin(const char *chain_id,
                                       char out[PEL_CKPT_ORIGIN_MAX + 1])
    PEL_NONNULL(1, 2);

/* pel_checkpoint_format - append the six-line body of c to body.
 * @return 0, PEL_ECKPT_ORIGIN (origin not a valid key name), PEL_ERANGE
 *         (size > INT64_MAX) or PEL_ENOMEM; body as it was on failure. */
PEL_MUST_USE int pel_checkpoint_format(const pel_checkpoint *c, pel_buf *body)
    PEL_NONNULL(1, 2);

/* pel_checkpoint_parse - parse a body exactly as pel_checkpoint_format
 * writes it; parse(format(c)) == c and format(parse(t)) == t.
 * @return 0 or, for the first fault found:
 *   PEL_ECKPT         not text ending in "\n", an empty line, a control
 *                     character, or fewer than three lines;
 *   PEL_ECKPT_ORIGIN  origin not a valid key name (or too long);
 *   PEL_ECKPT_NUM     a number with a sign, a leading zero, a non-digit,
 *                     over uint64 (tree size: over INT64_MAX);
 *   PEL_ECKPT_HASH    root not canonical base64 of 32 bytes, state root
 *                     not 64 lowercase hex digits;
 *   PEL_ECKPT_EXT     an extension line missing, unknown, out of order,
 *                     repeated, or a line after the last one.
 * Faults are looked for line by line, layout first. *out zeroed on failure. */
PEL_MUST_USE int pel_checkpoint_parse(const char *text, size_t len,
                                      pel_checkpoint *out)
    PEL_NONNULL(3);

/* pel_checkpoint_sign - append to note the checkpoint c signed by sk under
 * the key name c->origin (format, then pel_note_sign).
 * @return pel_checkpoint_format's and pel_note_sign's codes; note as it
 *         was on failure. */
PEL_MUST_USE int pel_checkpoint_sign(const pel_checkpoint *c,
                                     const uint8_t sk[PEL_SECKEY_LEN],
                                     pel_buf *note)
    PEL_NONNULL(1, 2, 3);

/* pel_checkpoint_verify - open note[0..len) with the one key `key` (other
 * signatures, e.g. witnesses', are ignored), parse its text, and require
 * the origin to equal key->name.
 * @return 0, pel_note_open's codes, pel_checkpoint_parse's codes, or
 *         PEL_ECKPT_ORIGIN (origin is not the key's name). *out zeroed on
 *         failure. */
PEL_MUST_USE int pel_checkpoint_verify(const char *note, size_t len,
                                       const pel_note_verifier *key,
                                       pel_checkpoint *out)
    PEL_NONNULL(1, 3, 4);

#endif
