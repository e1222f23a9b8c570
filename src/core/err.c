/* err.c - names of PEL error codes (see err.h). */
#include "core/err.h"

const char *pel_strerror(int code)
{
    switch (code) {
    case PEL_OK: return "success";
    case PEL_ENOMEM: return "out of memory";
    case PEL_EINVAL: return "invalid argument";
    case PEL_ENOTFOUND: return "not found";
    case PEL_ERANGE: return "value out of range";
    case PEL_EIO: return "I/O error";
    case PEL_EEXIST: return "already exists";
    case PEL_ETRUNC: return "truncated input";
    case PEL_ETRAILING: return "trailing bytes after value";
    case PEL_ETOOLONG: return "length over limit";
    case PEL_ENONCANON: return "non-canonical encoding";
    case PEL_EHEX: return "invalid hex";
    case PEL_EBADSIG: return "bad signature";
    case PEL_EBADKEY: return "bad public key";
    case PEL_ECRYPTO: return "crypto failure";
    case PEL_EBOUND: return "counter bound crossed";
    case PEL_ETYPE: return "wrong value type";
    case PEL_EACCESS: return "undeclared access";
    case PEL_EHALT: return "execution halted";
    case PEL_EGAS: return "out of gas";
    case PEL_EFUNDS: return "insufficient funds";
    case PEL_EABORT: return "transaction aborted";
    case PEL_ENONCE: return "bad nonce";
    case PEL_EFUTURE: return "nonce too far ahead";
    case PEL_ECHAIN: return "wrong chain id";
    case PEL_EEXPIRED: return "transaction expired";
    case PEL_ETXSIZE: return "transaction too large";
    case PEL_EDUP: return "duplicate transaction";
    case PEL_EFULL: return "mempool full";
    case PEL_ETXTYPE: return "unknown transaction type or bad body";
    case PEL_EEVICTED: return "evicted from mempool";
    case PEL_EFEE: return "gas price too low";
    case PEL_ELOCKED: return "node directory locked by another process";
    case PEL_ECORRUPT: return "stored data corrupt";
    case PEL_EMAPFULL: return "store full";
    case PEL_ESTOPPED: return "node stopping";
    case PEL_EREMOTE: return "remote call failed";
    case PEL_EPROOF: return "proof does not verify";
    case PEL_ENOTE: return "malformed signed note";
    case PEL_ENOTE_UNVERIFIED: return "note has no signature by a known key";
    case PEL_ENOTE_BADSIG: return "note signature by a known key is invalid";
    case PEL_ENOTE_TOOMANY: return "note has too many signatures";
    case PEL_ENOTE_AMBIGUOUS: return "two known note keys share name and key id";
    case PEL_ENOTE_TEXT: return "note text not signable";
    case PEL_ENOTE_NAME: return "invalid note key name";
    case PEL_EVKEY: return "malformed note key";
    case PEL_EVKEY_ALG: return "unknown note key algorithm";
    case PEL_EVKEY_ID: return "note key id does not match key";
    case PEL_ECKPT: return "malformed checkpoint";
    case PEL_ECKPT_ORIGIN: return "bad checkpoint origin";
    case PEL_ECKPT_NUM: return "checkpoint number not canonical";
    case PEL_ECKPT_HASH: return "bad checkpoint hash";
    case PEL_ECKPT_EXT: return "bad checkpoint extension line";
    case PEL_ESMT_PRUNED: return "state tree version pruned";
    case PEL_ESMT_VERSION: return "state tree version not found";
    case PEL_EPROOF_FORMAT: return "malformed proof file";
    case PEL_EPROOF_VERSION: return "unsupported proof file version";
    case PEL_EOBJ_UNKNOWN: return "research object not registered";
    case PEL_EOBJ_PERM: return "sender does not control the research object (creator or maintainer)";
    case PEL_EOBJ_KIND: return "a new version must keep the object's kind";
    case PEL_EOBJ_MAINT: return "maintainer already listed, not listed, or the list is full";
    case PEL_EOBJ_VERSION: return "no such version of the research object";
    case PEL_ELICENSE: return "not an SPDX licence identifier";
    case PEL_ECREDIT: return "not a CRediT contributor role";
    case PEL_EPREREG_UNKNOWN: return "preregistration not found";
    case PEL_EPREREG_MISMATCH: return "reveal does not match the commitment (protocol digest, outcomes and salt)";
    case PEL_EPREREG_EMBARGO: return "under embargo: only the registrant may reveal before it ends";
    case PEL_EPREREG_STATE: return "preregistration already revealed, or not revealed yet";
    case PEL_EPREREG_PERM: return "only the registrant may do this";
    case PEL_EPREREG_FULL: return "too many status changes or results on this preregistration";
    case PEL_EREVIEW_DUP: return "this reviewer already reviewed this version";
    case PEL_EREVIEW_AUTHOR: return "authors (creator, maintainers, contributors) may not review their own object";
    case PEL_ELIC_NONE: return "the object has no licence terms";
    case PEL_ELIC_PRICE: return "the licence price is above the buyer's maximum (the terms changed?)";
    case PEL_ELIC_PARTY: return "a licence party must be the object's creator, a maintainer or a contributor";
    case PEL_ESHARE_NONE: return "the object has no share class";
    case PEL_ESHARE_EXISTS: return "the object already has a share class";
    case PEL_ESHARE_FUNDS: return "not enough shares";
    default: return "unknown error";
    }
}
