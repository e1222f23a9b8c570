/*
 * err.h - PEL error codes.
 *
 * Every function that can fail returns 0 or one of these negative codes;
 * pel_strerror() names each one. Codes are stable: they appear in receipts
 * and in RPC errors, so append new ones at the end of their group only.
 */
#ifndef PEL_ERR_H
#define PEL_ERR_H

typedef enum pel_err {
    PEL_OK = 0,
    /* generic */
    PEL_ENOMEM = -1,      /* allocation failed */
    PEL_EINVAL = -2,      /* invalid argument */
    PEL_ENOTFOUND = -3,   /* key or object does not exist */
    PEL_ERANGE = -4,      /* value out of range */
    PEL_EIO = -5,         /* I/O error */
    PEL_EEXIST = -6,      /* already exists */
    /* codec */
    PEL_ETRUNC = -20,     /* input ends before the value does */
    PEL_ETRAILING = -21,  /* bytes left after the value */
    PEL_ETOOLONG = -22,   /* declared length over the limit */
    PEL_ENONCANON = -23,  /* input is not the canonical encoding */
    PEL_EHEX = -24,       /* not valid hex */
    /* crypto */
    PEL_EBADSIG = -30,    /* signature does not verify */
    PEL_EBADKEY = -31,    /* malformed or weak public key */
    PEL_ECRYPTO = -32,    /* crypto library failure */
    /* execution */
    PEL_EBOUND = -40,     /* delta_add would cross its bound */
    PEL_ETYPE = -41,      /* value has the wrong type (e.g. counter not 8 bytes) */
    PEL_EACCESS = -42,    /* access to a key the transaction did not declare */
    PEL_EHALT = -43,      /* execution halted by the engine (speculation) */
    PEL_EGAS = -44,       /* out of gas */
    PEL_EFUNDS = -45,     /* insufficient funds */
    PEL_EABORT = -46,     /* transaction aborted itself */
    /* ledger: admission and execution of signed transactions */
    PEL_ENONCE = -50,     /* nonce already used (too low) or not the next one */
    PEL_EFUTURE = -51,    /* nonce too far ahead of the account's */
    PEL_ECHAIN = -52,     /* transaction is for another chain */
    PEL_EEXPIRED = -53,   /* expiry height passed */
    PEL_ETXSIZE = -54,    /* transaction larger than the limit */
    PEL_EDUP = -55,       /* transaction already known */
    PEL_EFULL = -56,      /* mempool (or the sender's share of it) is full */
    PEL_ETXTYPE = -57,    /* unknown transaction type or malformed body */
    PEL_EEVICTED = -58,   /* dropped from the mempool for a better-paying one, or, waiting
                             on a nonce gap, for one that could be taken */
    PEL_EFEE = -59,       /* gas price below the node's minimum */
    /* node and store */
    PEL_ELOCKED = -70,    /* node directory in use by another process */
    PEL_ECORRUPT = -71,   /* stored data fails its checks */
    PEL_EMAPFULL = -72,   /* store reached its configured size */
    PEL_ESTOPPED = -73,   /* node is shutting down */
    PEL_ENOTLEADER = -74, /* this cluster node is not the leader (raft ordering) */
    PEL_EDIVERGED = -75,  /* a replicated block does not match what this node computed */
    PEL_EBUSY = -76,      /* another cluster membership change is in progress */
    PEL_EPENDING = -77,   /* started, not finished yet (a membership change) */
    PEL_EDENIED = -78,    /* a cluster admin call without the cluster's admin token */
    /* rpc */
    PEL_EREMOTE = -80,    /* the remote side answered with a JSON-RPC error */
    /* proofs */
    PEL_EPROOF = -90,     /* proof does not verify */
    /* notes: C2SP signed notes, verifier keys and checkpoints (state/checkpoint.h) */
    PEL_ENOTE = -100,           /* malformed signed note */
    PEL_ENOTE_UNVERIFIED = -101,/* no signature by a known key */
    PEL_ENOTE_BADSIG = -102,    /* a known key's signature does not verify */
    PEL_ENOTE_TOOMANY = -103,   /* more signature lines than the limit */
    PEL_ENOTE_AMBIGUOUS = -104, /* two known keys share name and key id */
    PEL_ENOTE_TEXT = -105,      /* text cannot be signed (final newline, UTF-8, control chars) */
    PEL_ENOTE_NAME = -106,      /* invalid key name */
    PEL_EVKEY = -107,           /* malformed verifier or signer key string */
    PEL_EVKEY_ALG = -108,       /* unknown key algorithm */
    PEL_EVKEY_ID = -109,        /* key id does not match name and key */
    PEL_ECKPT = -110,           /* malformed checkpoint body (lines) */
    PEL_ECKPT_ORIGIN = -111,    /* checkpoint origin invalid or not the signer's */
    PEL_ECKPT_NUM = -112,       /* checkpoint number not canonical decimal */
    PEL_ECKPT_HASH = -113,      /* checkpoint hash badly encoded or wrong length */
    PEL_ECKPT_EXT = -114,       /* checkpoint extension line missing or unknown */
    /* state tree (state/smt.h) */
    PEL_ESMT_PRUNED = -120,     /* state tree version pruned (below the retention floor) */
    PEL_ESMT_VERSION = -121,    /* state tree version never written */
    /* proof files (state/proof.h) */
    PEL_EPROOF_FORMAT = -130,   /* malformed proof file */
    PEL_EPROOF_VERSION = -131,  /* unsupported proof file version */
    /* research-object registry (modules/registry.h) */
    PEL_EOBJ_UNKNOWN = -140,    /* research object not registered */
    PEL_EOBJ_PERM = -141,       /* sender does not control the research object */
    PEL_EOBJ_KIND = -142,       /* a new version must keep the object's kind */
    PEL_EOBJ_MAINT = -143,      /* maintainer already listed, not listed, or list full */
    PEL_EOBJ_VERSION = -144,    /* no such version of the research object */
    PEL_ELICENSE = -145,        /* not an SPDX licence identifier */
    PEL_ECREDIT = -146,         /* not a CRediT contributor role */
    /* preregistration (modules/prereg.h) */
    PEL_EPREREG_UNKNOWN = -150, /* preregistration not found */
    PEL_EPREREG_MISMATCH = -151,/* reveal does not match the commitment */
    PEL_EPREREG_EMBARGO = -152, /* under embargo: only the registrant may reveal */
    PEL_EPREREG_STATE = -153,   /* already revealed, or not revealed yet */
    PEL_EPREREG_PERM = -154,    /* only the registrant may do this */
    PEL_EPREREG_FULL = -155,    /* too many status changes or results recorded */
    /* peer review (modules/review.h) */
    PEL_EREVIEW_DUP = -160,     /* this reviewer already reviewed this version */
    PEL_EREVIEW_AUTHOR = -161,  /* authors may not review their own object */
    /* licences (modules/licence.h) */
    PEL_ELIC_NONE = -170,       /* the object has no licence terms */
    PEL_ELIC_PRICE = -171,      /* the price is above the buyer's maximum */
    PEL_ELIC_PARTY = -172,      /* a party is not the object's creator, maintainer or contributor */
    /* fractional shares (modules/shares.h) */
    PEL_ESHARE_NONE = -180,     /* the object has no share class */
    PEL_ESHARE_EXISTS = -181,   /* the object already has a share class */
    PEL_ESHARE_FUNDS = -182,    /* not enough shares */
    PEL_ESHARE_LOCKED = -183,   /* shares locked by a DAO vote until its deadline */
    /* DAOs and grants (modules/dao.h) */
    PEL_EDAO_UNKNOWN = -190,    /* no such DAO */
    PEL_EDAO_MEMBER = -191,     /* the sender is not a member of the DAO */
    PEL_EDAO_WEIGHT = -192,     /* the member has no voting weight */
    PEL_EDAO_PROP = -193,       /* no such proposal (or not a grant) */
    PEL_EDAO_VOTED = -194,      /* this member already voted on the proposal */
    PEL_EDAO_CLOSED = -195,     /* voting on the proposal has ended */
    PEL_EDAO_OPEN = -196,       /* voting on the proposal has not ended yet */
    PEL_EDAO_REJECTED = -197,   /* the proposal did not pass */
    PEL_EDAO_DONE = -198,       /* the proposal was already executed */
    PEL_EDAO_FUNDS = -199,      /* the treasury holds less than the proposal pays */
    PEL_EDAO_MEMBERS = -200,    /* already a member, not a member, the last member, or full */
    PEL_EGRANT_RELEASED = -201, /* the milestone was already released */
    PEL_EGRANT_REVIEWER = -202, /* the sender is not a reviewer named in the grant */
    PEL_EGRANT_DELIVERABLE = -203, /* deliverable not controlled by the recipient or older than the grant */
    PEL_EGRANT_STATE = -204,    /* the grant is not funded yet, or was cancelled */
} pel_err;

/* pel_strerror - a static, human-readable name for an error code.
 * Never returns NULL; unknown codes give "unknown error". Thread-safe. */
const char *pel_strerror(int code);

#if defined(__GNUC__)
#define PEL_MUST_USE __attribute__((warn_unused_result))
#define PEL_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#else
#define PEL_MUST_USE
#define PEL_NONNULL(...)
#endif

#endif
