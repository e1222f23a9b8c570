/*
 * proof.h - PEL proof files: one self-contained JSON document that carries
 * a claim about the ledger, the signed checkpoint it is proven against and
 * every hash needed to check it, so that a verifier holding only the
 * node's verifier key (state/checkpoint.h) can check it offline.
 *
 * docs/PROOFS.md section 4 is the normative text; this is its summary.
 * Version 1, one JSON object (RFC 8259, UTF-8):
 *
 *   common   "pel_proof": "1"
 *            "type": "tx" | "state" | "consistency"
 *            "checkpoint": the signed checkpoint note, whole (the new one
 *                          for "consistency")
 *   tx       "height", "index", "leaf_index", "tx", "receipt", "inclusion"
 *            transaction `tx` (its id H("PEL/txid", tx bytes)) with receipt
 *            `receipt` (digest H("PEL/receipt", receipt bytes)) is leaf
 *            `leaf_index` of the history tree (state/history.h), in block
 *            `height` at position `index`; `inclusion` is PATH(m, D[n]).
 *   state    "key", "value", "state_proof"
 *            state key `key` has value `value` (null: no value) in the
 *            state tree (state/smt.h) after block checkpoint.height.
 *   consistency  "old_checkpoint", "consistency"
 *            the ledger of the checkpoint extends that of old_checkpoint;
 *            `consistency` is PROOF(m, D[n]).
 *
 * Encodings: every integer is a JSON string of canonical decimal (no sign,
 * no leading zero, "0" for zero; u64, index u32); byte strings are
 * lowercase hex of even length; hashes are 64 hex digits; notes are JSON
 * strings holding the note's exact bytes. The parser is strict: exactly
 * the type's members, no duplicates, the encodings above, a state_proof in
 * the canonical encoding of smt.h; anything else is PEL_EPROOF_FORMAT, a
 * version other than "1" is PEL_EPROOF_VERSION. The writer emits one
 * canonical text (members in the order of the table above, two-space
 * indent, one hash per line, final newline), so format(parse(t)) == t for
 * every canonical t and parse(format(p)) == p for every valid p.
 *
 * The JSON reader is our own (about 250 lines with UTF-8) rather than
 * cJSON: the file must be read byte-exact (a note's text is signed), and
 * cJSON cuts strings at "\u0000", accepts invalid UTF-8 and unpaired
 * surrogates, and keeps duplicate members without a word. Beyond RFC 8259
 * it refuses unpaired surrogate escapes, nesting over 32 and more than
 * PEL_PROOF_MEMBERS_MAX members (tools/pelverify.py applies the same
 * limits, so the two agree on every code).
 *
 * Thread safety: every function is thread-safe (no shared state); a
 * pel_proof belongs to one thread at a time.
 */
#ifndef PEL_PROOF_H
#define PEL_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "exec/key.h"
#include "state/checkpoint.h"
#include "state/history.h"
#include "state/smt.h"

#define PEL_PROOF_FILE_VERSION 1
#define PEL_PROOF_TEXT_MAX (8u << 20)   /* bytes of a proof file */
#define PEL_PROOF_MEMBERS_MAX 16        /* members the parser looks at */

typedef enum pel_proof_type {
    PEL_PROOF_TX = 1,
    PEL_PROOF_STATE = 2,
    PEL_PROOF_CONSISTENCY = 3
} pel_proof_type;

/*
 * A proof file, decoded. The buffers are owned by the struct (pel_proof_free
 * releases them); fields not used by `type` are left empty/zero by the
 * parser and ignored by the writer and the verifier. About 11 KiB: keep it
 * on the heap or in a long-lived frame.
 */
typedef struct pel_proof {
    pel_proof_type type;
    pel_buf checkpoint;      /* signed note, exact bytes (consistency: new) */
    /* tx */
    uint64_t height;         /* block holding the transaction */
    uint32_t index;          /* its position in that block */
    uint64_t leaf_index;     /* its leaf in the history tree */
    pel_buf tx;              /* signed transaction encoding */
    pel_buf receipt;         /* stored receipt encoding */
    /* tx: the inclusion path; consistency: the consistency proof */
    uint8_t path[PEL_HISTORY_MAX_PATH][PEL_HISTORY_HASH_LEN];
    size_t path_len;
    /* state */
    pel_key key;
    int has_value;           /* 0: the file claims the key has no value */
    pel_buf value;           /* the value when has_value (may be empty) */
    pel_smt_proof state_proof;
    /* consistency */
    pel_buf old_checkpoint;  /* signed note of the older checkpoint */
} pel_proof;

/* What pel_proof_verify established, for the caller to print. Plain data. */
typedef struct pel_proof_result {
    pel_proof_type type;
    char key_name[PEL_NOTE_NAME_MAX + 1];   /* the key that signed */
    uint8_t key_id[PEL_NOTE_KEY_ID_LEN];
    pel_checkpoint ckpt;                    /* checkpoint (consistency: new) */
    pel_checkpoint old;                     /* consistency: the old one */
    uint8_t txid[32];                       /* tx: H("PEL/txid", tx) */
    uint8_t receipt_digest[32];             /* tx: H("PEL/receipt", receipt) */
    uint8_t leaf_hash[PEL_HISTORY_HASH_LEN];/* tx: the history leaf hash */
} pel_proof_result;

/* pel_proof_init - an empty proof (type 0, no buffers); allocates nothing. */
void pel_proof_init(pel_proof *p) PEL_NONNULL(1);

/* pel_proof_free - release the buffers; p is as after pel_proof_init. */
void pel_proof_free(pel_proof *p) PEL_NONNULL(1);

/*
 * pel_proof_parse - read a proof file, strictly (docs/PROOFS.md section 4.3
 * lists the checks in order: JSON, member count, duplicates, version,
 * type, member set, then each member's value).
 * @param[in]  json    len bytes, need not be NUL-terminated; NULL if len 0
 * @param[out] out     initialised (pel_proof_init) or holding an earlier
 *                     proof, which is freed first; on failure it is left
 *                     empty, as after pel_proof_init
 * @param[out] err     NULL, or errlen bytes for a NUL-terminated message
 *                     naming the fault and the member ("" on success)
 * @return 0, PEL_EPROOF_FORMAT, PEL_EPROOF_VERSION, PEL_ENOMEM.
 * Example:
 *     pel_proof p; pel_proof_init(&p);
 *     if (pel_proof_parse(text, len, &p, msg, sizeof msg)) goto fail;
 */
PEL_MUST_USE int pel_proof_parse(const char *json, size_t len, pel_proof *out,
                                 char *err, size_t errlen) PEL_NONNULL(3);

/*
 * pel_proof_format - append the canonical text of p to out:
 *     {
 *       "pel_proof": "1",
 *       "type": "tx",
 *       ...members in the order of the table at the top...
 *       "inclusion": [
 *         "<64 hex>",
 *         "<64 hex>"
 *       ]
 *     }
 * two-space indent, ": " and ",\n" separators, "[]" for an empty array,
 * a final "\n". Notes are written with the JSON escapes \" \\ \b \f \n \r
 * \t and \u00xx (lowercase) for other control characters; other bytes as
 * they are. Does not verify anything.
 * @return 0; PEL_EINVAL (unknown type, path_len over PEL_HISTORY_MAX_PATH,
 *         a note that is not valid UTF-8, or a state proof the smt.h
 *         encoder refuses); PEL_ENOMEM. out is unchanged on failure.
 */
PEL_MUST_USE int pel_proof_format(const pel_proof *p, pel_buf *out)
    PEL_NONNULL(1, 2);

/*
 * pel_proof_verify - check the claim of p against its checkpoint(s), with
 * the node's key `key`, in the order of docs/PROOFS.md section 4.4:
 *   tx           checkpoint verifies; height <= its height; leaf_index <
 *                its size; the leaf of (height, index, txid, receipt
 *                digest) is leaf leaf_index under the checkpoint's root;
 *   state        checkpoint verifies; the proof's kind matches the claim
 *                (present / absent); it leads to the checkpoint's state
 *                root (pel_smt_verify);
 *   consistency  checkpoint verifies; old_checkpoint verifies; same
 *                origin; old height and size not above the new ones; from
 *                size 0: an empty proof and the empty root, else
 *                pel_history_verify_consistency.
 * @param[out] res  NULL, or what was proven (zeroed on failure)
 * @param[out] err  NULL, or errlen bytes for a message saying exactly what
 *                  failed, e.g. "old checkpoint: signature does not verify
 *                  with the key" ("" on success)
 * @return 0; PEL_EPROOF (a hash, size or height that does not match);
 *         pel_checkpoint_verify's codes for either note (PEL_ENOTE,
 *         PEL_ENOTE_UNVERIFIED, PEL_ENOTE_BADSIG, PEL_ENOTE_TOOMANY,
 *         PEL_ECKPT*, PEL_EBADKEY, ...); PEL_EINVAL (p->type unknown or
 *         path_len over PEL_HISTORY_MAX_PATH); PEL_ECRYPTO.
 */
PEL_MUST_USE int pel_proof_verify(const pel_proof *p, const pel_note_verifier *key,
                                  pel_proof_result *res, char *err, size_t errlen)
    PEL_NONNULL(1, 2);

/*
 * pel_proof_describe - append one line (ending in "\n") saying what a
 * verified proof proves, from p and pel_proof_verify's result r:
 *   tx: "transaction <txid> is leaf 57 of the ledger of 120 transactions
 *       signed by <name>+<key id> at height 12 (block 11, position 3);
 *       receipt digest <hex>"
 *   state: "state key <hex> has value <hex> (N bytes) after block 12, state
 *       root <hex>, signed by <name>+<key id>" ("has the empty value (0
       bytes)" for a value of no bytes, "has no value" for an absent key)
 *   consistency: "the ledger of 120 transactions at height 12 extends the
 *       ledger of 57 transactions at height 5, signed by <name>+<key id>"
 * Hashes are lowercase hex. tools/pelverify.py prints the same line.
 * @return 0, PEL_EINVAL (unknown type), PEL_ENOMEM; out unchanged on
 *         failure.
 */
PEL_MUST_USE int pel_proof_describe(const pel_proof *p, const pel_proof_result *r,
                                    pel_buf *out) PEL_NONNULL(1, 2, 3);

/* pel_proof_type_name - "tx", "state", "consistency", or NULL. */
const char *pel_proof_type_name(int type);

#endif
