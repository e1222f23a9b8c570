/*
 * prereg.h - preregistration: commit to a protocol and its primary
 * outcomes before the study, reveal later (after an embargo, or earlier by
 * the registrant), link results, and flag outcome switching publicly.
 *
 * ---- Transactions (types 20..23; canonical codec) ----
 *   20 commit   commitment raw32 ‖ embargo_height u64 ‖ embargo_time_ms u64 ‖
 *               registry_id bytes (0..64 printable ASCII, e.g. a trial
 *               registry number) ‖ sample_size u64 (0: not given)
 *   21 reveal   id raw16 ‖ protocol raw32 ‖ outcomes ‖ salt raw32
 *   22 results  id raw16 ‖ object id raw16 (modules/registry.h) ‖ outcomes
 *   23 status   id raw16 ‖ status u8 (pel_prereg_status)
 * outcomes = u32 n (1..PEL_PREREG_OUTCOMES_MAX) ‖ (bytes outcome)*n, each
 *   1..PEL_PREREG_OUTCOME_MAX bytes of UTF-8 without control characters,
 *   distinct.
 *
 *   commitment   = H("PEL/prereg-commit", protocol ‖ outcomes_digest ‖ salt)
 *   outcomes_digest = H("PEL/prereg-outcomes", the outcomes encoding above)
 * (H = tagged BLAKE2b-256, core/hash.h; protocol = SHA-256 of the protocol
 * document; salt = 32 random bytes that keep the commitment unguessable.)
 * The commitment is public; the protocol and outcomes are not, until the
 * reveal. A preregistration's id is the first 16 bytes of
 * H("PEL/prereg-id", commit tx id), written "pel:prereg:" + 32 hex.
 *
 * ---- Rules ----
 * reveal: the preregistration exists (PEL_EPREREG_UNKNOWN) and is not
 *   revealed (PEL_EPREREG_STATE); H(...) of the revealed data equals the
 *   commitment (PEL_EPREREG_MISMATCH); while the embargo runs (block height
 *   < embargo_height, or block time < embargo_time_ms; 0 = no such limit)
 *   only the registrant may reveal (PEL_EPREREG_EMBARGO); afterwards
 *   anyone holding the data may.
 * results: the preregistration is revealed (PEL_EPREREG_STATE); the
 *   object exists (PEL_EOBJ_UNKNOWN) and the sender controls it
 *   (PEL_EOBJ_PERM); at most PEL_PREREG_RESULTS_MAX results. The reported
 *   outcomes are compared with the primary ones as sets: any outcome added
 *   or dropped marks the result OUTCOME-SWITCHED, with the lists kept.
 * status: only the registrant (PEL_EPREREG_PERM); at most
 *   PEL_PREREG_STATUS_MAX changes, each kept with its block height and time.
 * Each success emits PEL_EV_PREREG ‖ id raw16 ‖ op u8 (the type - 19) ‖
 *   flag u8 (results: 1 if outcome-switched).
 *
 * ---- State ----
 *   H("PEL/prereg", id) -> the record (pel_prereg, encoded in prereg.c's
 *   order: registrant, height, time, commitment, embargo, registry id,
 *   sample size, reveal (flag, then height, revealer, protocol, outcomes),
 *   status changes, results).
 * Transactions on different preregistrations never conflict.
 *
 * Thread safety: no mutable state.
 */
#ifndef PEL_PREREG_H
#define PEL_PREREG_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "exec/state.h"
#include "ledger/module.h"
#include "ledger/tx.h"
#include "modules/registry.h"

enum {
    PEL_TX_PREREG_COMMIT = 20,
    PEL_TX_PREREG_REVEAL = 21,
    PEL_TX_PREREG_RESULTS = 22,
    PEL_TX_PREREG_STATUS = 23
};

enum { PEL_EV_PREREG = 3 };

#define PEL_PREREG_ID_LEN 16
#define PEL_PREREG_ID_STR_LEN (11 + 2 * PEL_PREREG_ID_LEN)    /* "pel:prereg:" + hex */
#define PEL_PREREG_OUTCOMES_MAX 16
#define PEL_PREREG_OUTCOME_MAX 100
#define PEL_PREREG_RESULTS_MAX 8
#define PEL_PREREG_STATUS_MAX 32
#define PEL_PREREG_REGID_MAX 64

typedef enum pel_prereg_status {
    PEL_PREREG_PLANNED, PEL_PREREG_RECRUITING, PEL_PREREG_ACTIVE, PEL_PREREG_COMPLETED,
    PEL_PREREG_TERMINATED, PEL_PREREG_WITHDRAWN, PEL_PREREG_STATUSES
} pel_prereg_status;

extern const char *const pel_prereg_status_names[PEL_PREREG_STATUSES];

typedef struct pel_prereg_id { uint8_t b[PEL_PREREG_ID_LEN]; } pel_prereg_id;

/* An outcome list, owned (NUL-terminated strings). */
typedef struct pel_outcomes {
    uint32_t n;
    char s[PEL_PREREG_OUTCOMES_MAX][PEL_PREREG_OUTCOME_MAX + 1];
} pel_outcomes;

typedef struct pel_prereg_result {
    pel_obj_id object;
    uint64_t height;
    int switched;
    pel_outcomes reported;
    pel_outcomes added, dropped;     /* computed: reported - primary, primary - reported */
} pel_prereg_result;

typedef struct pel_prereg {
    pel_addr registrant;
    uint64_t height, time_ms;
    uint8_t commitment[32];
    uint64_t embargo_height, embargo_time_ms;
    char registry_id[PEL_PREREG_REGID_MAX + 1];
    uint64_t sample_size;
    int revealed;
    uint64_t reveal_height;
    pel_addr revealer;
    uint8_t protocol[32];
    pel_outcomes primary;
    uint32_t n_status;
    struct { uint8_t status; uint64_t height, time_ms; } status[PEL_PREREG_STATUS_MAX];
    uint32_t n_results;
    pel_prereg_result results[PEL_PREREG_RESULTS_MAX];
} pel_prereg;   /* about 60 KiB: allocate it */

extern const pel_tx_module pel_prereg_module;

/* pel_prereg_commitment - the commitment of (protocol, outcomes, salt).
 * @return 0, PEL_EINVAL (outcomes invalid), PEL_ENOMEM. */
int pel_prereg_commitment(const uint8_t protocol[32], const pel_outcomes *o,
                          const uint8_t salt[32], uint8_t out[32]) PEL_MUST_USE;

/* pel_outcomes_encode - append the outcomes encoding. @return 0, PEL_ENOMEM. */
int pel_outcomes_encode(const pel_outcomes *o, pel_buf *out) PEL_MUST_USE;

void pel_prereg_id_of(const uint8_t txid[32], pel_prereg_id *out);
void pel_prereg_id_format(const pel_prereg_id *id, char *out);   /* PEL_PREREG_ID_STR_LEN + 1 */
int pel_prereg_id_parse(const char *s, pel_prereg_id *id) PEL_MUST_USE;

/* pel_prereg_get - the record (with added/dropped of each result filled).
 * @return 0, PEL_EPREREG_UNKNOWN, PEL_ECORRUPT, store errors. */
int pel_prereg_get(const pel_state *st, const pel_prereg_id *id, pel_prereg *out) PEL_MUST_USE;

#endif
