#!/usr/bin/env python3
"""An independent verifier of hiwar public records, written from docs/record-spec.md
alone, on libsodium (Ed25519 through PyNaCl, ristretto255 through rbcl) and Python's
own JSON, SHA-256 and SHA-512. It checks elections (spec §6) one proof at a time.

    python3 tools/verify_record.py RECORD.jsonl [--key HEX] [--previous FILE]
        [--checkpoint FILE ...] [--witnesses FILE [--quorum K] [--max-age SECONDS]]

Exit 0 when every check holds, 1 naming the first failed check, 2 when unreadable.
"""

import argparse
import datetime
import hashlib
import json
import re
import sys

import nacl.bindings
import rbcl
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

MAX_LINE = 1 << 20
MAX_SAFE = (1 << 53) - 1
FIELDS = {"v", "dialogue", "seq", "prev", "time", "kind", "body", "sig"}
DOMAIN = b"hiwar/record/v1/line\n"
ROLES = {"convener", "participant", "delegate", "trustee", "observer"}
INVITED_ROLES = ROLES | {"organisation"}
PHASE_KINDS = {"registration", "selection", "deliberation", "decision", "declaration", "closed"}
ID_RE = re.compile(r"^[a-z0-9-]{1,64}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")


class Failure(Exception):
    def __init__(self, check, line, detail):
        super().__init__(f"{check} failed at line {line}: {detail}")
        self.check = check


def canonical(value):
    """Spec §2: sorted keys, no whitespace, integers only, minimal escapes."""
    def check(v):
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return
        if isinstance(v, int):
            if abs(v) > MAX_SAFE:
                raise ValueError(f"integer {v} out of range")
            return
        if isinstance(v, float):
            raise ValueError("floats are not allowed")
        if isinstance(v, list):
            for x in v:
                check(x)
            return
        if isinstance(v, dict):
            for k, x in v.items():
                if not k.isascii():
                    raise ValueError(f"non-ASCII key {k!r}")
                check(x)
            return
        raise ValueError(f"unexpected value {v!r}")
    check(value)
    # Python's encoder escapes exactly " \\ \b \f \n \r \t and other C0 controls as
    # lowercase \u00xx when ensure_ascii is off, as §2 requires.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def is_date(s):
    if not isinstance(s, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", s):
        return False
    try:
        datetime.date.fromisoformat(s)
        return True
    except ValueError:
        return False


class State:
    """Spec §4: the rules that tie events together."""

    def __init__(self):
        self.key = None
        self.phases = 0
        self.members = {}
        self.pseudonyms = set()
        self.batches = {}
        self.batch_roles = {}
        self.batch_order = {}
        self.redacted = set()
        self.statements = {}
        self.digests = {}
        self.agenda = {}
        self.pseudonym_of = {}

    @staticmethod
    def shape(body, names):
        if not isinstance(body, dict):
            raise ValueError("body is not an object")
        if set(body) != set(names):
            raise ValueError(f"body members {sorted(body)} are not {sorted(names)}")

    @staticmethod
    def text(t):
        return isinstance(t, dict) and set(t) == {"ar", "en"} and all(isinstance(x, str) for x in t.values())

    @staticmethod
    def ident(x):
        return isinstance(x, str) and ID_RE.fullmatch(x) is not None

    @staticmethod
    def uint(x):
        return isinstance(x, int) and not isinstance(x, bool) and x >= 0

    def bump(self, batch, joined, revoked):
        entry = self.batches.get(batch)
        if entry is None:
            raise ValueError(f"batch {batch} was never issued")
        entry[1] += joined
        entry[2] += revoked
        if entry[1] + entry[2] > entry[0]:
            raise ValueError(f"batch {batch} exceeds its count")

    def apply(self, seq, kind, b):
        if seq == 0 and kind != "dialogue.created":
            raise ValueError("first event must be dialogue.created")
        if kind == "dialogue.created":
            self.shape(b, ["title", "description", "public_key"])
            if seq != 0 or not self.text(b["title"]) or not self.text(b["description"]):
                raise ValueError("bad dialogue.created")
            if not isinstance(b["public_key"], str) or not HEX64.fullmatch(b["public_key"]):
                raise ValueError("public_key is not 64 lowercase hex")
            self.key = b["public_key"]
        elif kind == "phase.added":
            self.shape(b, ["index", "kind", "name", "starts", "ends"])
            if b["index"] != self.phases or not self.uint(b["index"]):
                raise ValueError("wrong phase index")
            if b["kind"] not in PHASE_KINDS or not self.text(b["name"]):
                raise ValueError("bad phase kind or name")
            if not is_date(b["starts"]) or not is_date(b["ends"]) or b["ends"] < b["starts"]:
                raise ValueError("bad phase dates")
            self.phases += 1
        elif kind == "phase.changed":
            self.shape(b, ["index"])
            i = b["index"]
            if i is not None and (not self.uint(i) or i >= self.phases):
                raise ValueError("unknown phase")
        elif kind == "codes.issued":
            self.shape(b, ["batch", "role", "count"])
            if not self.ident(b["batch"]) or b["role"] not in INVITED_ROLES or not self.uint(b["count"]) or b["count"] < 1:
                raise ValueError("bad codes.issued")
            if b["batch"] in self.batches:
                raise ValueError("batch issued twice")
            self.batch_order[b["batch"]] = len(self.batches)
            self.batches[b["batch"]] = [b["count"], 0, 0]
            self.batch_roles[b["batch"]] = b["role"]
        elif kind == "codes.revoked":
            self.shape(b, ["batch", "count"])
            if not self.ident(b["batch"]) or not self.uint(b["count"]):
                raise ValueError("bad codes.revoked")
            self.bump(b["batch"], 0, b["count"])
        elif kind == "member.joined":
            self.shape(b, ["member", "pseudonym", "role", "batch"])
            p = b["pseudonym"]
            if not self.ident(b["member"]) or not isinstance(p, str) or not 1 <= len(p) <= 40 or b["role"] not in ROLES:
                raise ValueError("bad member.joined")
            if b["batch"] is None:
                if self.members or b["role"] != "convener":
                    raise ValueError("only the creating convener joins without a batch")
            else:
                if not self.ident(b["batch"]):
                    raise ValueError("bad batch id")
                self.bump(b["batch"], 1, 0)
                if self.batch_roles[b["batch"]] != b["role"]:
                    raise ValueError("the member joined with another role than its batch grants")
            if b["member"] in self.members or p.lower() in self.pseudonyms:
                raise ValueError("member or pseudonym already present")
            self.pseudonyms.add(p.lower())
            self.members[b["member"]] = {b["role"]}
            self.pseudonym_of[b["member"]] = p
        elif kind in ("role.granted", "role.revoked"):
            self.shape(b, ["member", "role", "by"])
            if not self.ident(b["member"]) or not self.ident(b["by"]) or b["role"] not in ROLES:
                raise ValueError("bad role change")
            if "convener" not in self.members.get(b["by"], set()):
                raise ValueError("by is not a convener")
            roles = self.members.get(b["member"])
            if roles is None:
                raise ValueError("member never joined")
            if (b["role"] in roles) == (kind == "role.granted"):
                raise ValueError("the change changes nothing")
            (roles.add if kind == "role.granted" else roles.discard)(b["role"])
        elif kind == "statement.posted":
            self.shape(b, ["statement", "digest"])
            if not self.ident(b["statement"]) or not isinstance(b["digest"], str) or not HEX64.fullmatch(b["digest"]):
                raise ValueError("bad statement.posted")
            if b["statement"] in self.statements:
                raise ValueError("statement posted twice")
            self.statements[b["statement"]] = False
            self.digests[b["statement"]] = b["digest"]
        elif kind == "statement.redacted":
            self.shape(b, ["statement", "reason", "by"])
            r = b["reason"]
            if not isinstance(r, str) or not 1 <= len(r) <= 500 or not self.ident(b["by"]):
                raise ValueError("bad statement.redacted")
            if "convener" not in self.members.get(b["by"], set()):
                raise ValueError("by is not a convener")
            if b["statement"] not in self.statements or b["statement"] in self.redacted:
                raise ValueError("unknown statement, or redacted twice")
            self.redacted.add(b["statement"])
            self.statements[b["statement"]] = True
        elif kind == "statement.moderated":
            self.shape(b, ["statement", "hidden", "reason", "by"])
            r = b["reason"]
            if not isinstance(b["hidden"], bool) or not isinstance(r, str) or not 1 <= len(r) <= 500:
                raise ValueError("bad statement.moderated")
            if "convener" not in self.members.get(b["by"], set()):
                raise ValueError("by is not a convener")
            if self.statements.get(b["statement"], b["hidden"]) == b["hidden"]:
                raise ValueError("unknown statement, or the moderation changes nothing")
            if b["statement"] in self.redacted:
                raise ValueError("a redacted statement stays hidden")
            self.statements[b["statement"]] = b["hidden"]
        elif kind == "votes.tallied":
            self.shape(b, ["statements"])
            if not isinstance(b["statements"], list):
                raise ValueError("statements is not a list")
            seen = set()
            for e in b["statements"]:
                self.shape(e, ["statement", "agree", "disagree", "pass"])
                if e["statement"] not in self.statements or e["statement"] in seen:
                    raise ValueError("unknown or repeated statement")
                if not all(self.uint(e[c]) for c in ("agree", "disagree", "pass")):
                    raise ValueError("counts are not non-negative integers")
                seen.add(e["statement"])
        elif kind == "agenda.proposed":
            self.shape(b, ["statement"])
            if not self.ident(b["statement"]) or b["statement"] not in self.statements or b["statement"] in self.agenda:
                raise ValueError("unknown statement, or proposed for the agenda twice")
            self.agenda[b["statement"]] = None
        elif kind == "agenda.decided":
            self.shape(b, ["statement", "adopted", "reason", "by"])
            r = b["reason"]
            if not isinstance(b["adopted"], bool) or not isinstance(r, str) or not 1 <= len(r) <= 500:
                raise ValueError("bad agenda.decided")
            if not self.ident(b["by"]) or "convener" not in self.members.get(b["by"], set()):
                raise ValueError("by is not a convener")
            if not self.ident(b["statement"]) or b["statement"] not in self.agenda:
                raise ValueError("statement never proposed for the agenda")
            if self.agenda[b["statement"]] is b["adopted"]:
                raise ValueError("the decision changes nothing")
            self.agenda[b["statement"]] = b["adopted"]
        else:
            raise ValueError(f"unknown event kind {kind!r}")

    def use_invitation(self, batch, role):
        if batch not in self.batches:
            raise ValueError(f"batch {batch} was never issued")
        if self.batch_roles[batch] != role:
            raise ValueError(f"batch {batch} grants {self.batch_roles[batch]}, not {role}")
        self.bump(batch, 1, 0)


# ----- declarations (spec §10) -----

SIGNATORY_KINDS = {"local-council", "syndicate", "ngo", "party", "coalition", "union", "media", "other", "member"}
PLACES = {"inside", "abroad"}
DIRECTION_OVERRIDES = re.compile("[\u202a-\u202e]")
NAME_INVISIBLE = re.compile("[\u2066-\u2069\u200b-\u200f\u061c\u2060-\u2064\ufeff\u00ad]")


def domain_message(domain, value):
    return b"hiwar/v1/" + domain.encode() + b"\n" + canonical(value)


class Declarations:
    """§10: signatories, declaration versions, signatures (D1-D3)."""

    def __init__(self, dialogue):
        self.dialogue = dialogue
        self.signatories = {}
        self.keys = set()
        self.members = set()
        self.declarations = {}

    @staticmethod
    def bilingual(v, what, most, names, check):
        shape(v, ["ar", "en"], check)
        for lang in ("ar", "en"):
            t = v[lang]
            if not isinstance(t, str) or not 1 <= len(t) <= most:
                raise Bad(check, f"{what}.{lang} is not a string of 1 to {most} characters")
            if DIRECTION_OVERRIDES.search(t) or (names and NAME_INVISIBLE.search(t)):
                raise Bad(check, f"{what}.{lang} holds a direction control character")

    def new_key(self, v):
        key = ed25519_key(v, "signatory key", "D1")
        if v in self.keys:
            raise Bad("D1", "the key was already registered")
        return key

    def live(self, sid, check):
        s = self.signatories.get(sid) if State.ident(sid) else None
        if s is None:
            raise Bad(check, f"signatory {sid} was never registered")
        if s["revoked"] is not None:
            raise Bad(check, f"signatory {sid} was revoked")
        return s

    def version(self, b, check):
        if not State.ident(b["declaration"]) or not State.uint(b["version"]):
            raise Bad(check, "declaration or version is malformed")
        d = self.declarations.get(b["declaration"])
        if d is None or not 1 <= b["version"] <= len(d["versions"]):
            raise Bad(check, f"declaration {b['declaration']} has no version {b['version']}")
        return d, d["versions"][b["version"] - 1]

    def apply(self, time, kind, b, state):
        D = self.dialogue
        if kind == "signatory.registered":
            shape(b, ["signatory", "name", "kind", "place", "key", "batch", "member", "sig"], "D1")
            sid = b["signatory"]
            if not State.ident(sid) or not isinstance(b["kind"], str) or not isinstance(b["place"], str) \
                    or b["kind"] not in SIGNATORY_KINDS or b["place"] not in PLACES:
                raise Bad("D1", "signatory, kind or place is malformed")
            self.bilingual(b["name"], "name", 120, True, "D1")
            key = self.new_key(b["key"])
            if sid in self.signatories:
                raise Bad("D1", f"signatory {sid} was already registered")
            message = domain_message("signatory", {"dialogue": D, "key": b["key"], "kind": b["kind"],
                                                    "name": b["name"], "place": b["place"], "signatory": sid})
            ed25519_verify(key, message, b["sig"], "D1", "the registered key")
            if b["kind"] == "member":
                m = b["member"]
                if b["batch"] is not None or not State.ident(m) or m not in state.members or m in self.members:
                    raise Bad("D1", "a member registers once, as a member who joined, without a batch")
                p = state.pseudonym_of[m]
                if b["name"] != {"ar": p, "en": p}:
                    raise Bad("D1", "a member signs under their pseudonym in both languages")
            elif b["member"] is not None or not State.ident(b["batch"]):
                raise Bad("D1", "an organisation registers with an invitation batch")
            names = [b["name"][l].lower() for l in ("ar", "en")]
            for other in self.signatories.values():
                if other["revoked"] is None and any(a == c for a, c in zip(other["names"], names)):
                    raise Bad("D1", "another signatory already goes by that name")
            if b["kind"] == "member":
                self.members.add(b["member"])
            else:
                try:
                    state.use_invitation(b["batch"], "organisation")
                except ValueError as e:
                    raise Bad("D1", str(e))
            self.keys.add(b["key"])
            self.signatories[sid] = {"key": b["key"], "revoked": None, "names": names}
        elif kind in ("signatory.key_rotated", "signatory.revoked"):
            rotated = kind == "signatory.key_rotated"
            shape(b, ["signatory", "key", "reason", "by", "sig"] if rotated else ["signatory", "reason", "by", "sig"], "D1")
            r = b["reason"]
            if not isinstance(r, str) or not 1 <= len(r) <= 500:
                raise Bad("D1", "reason is not a string of 1 to 500 characters")
            s = self.live(b["signatory"], "D1")
            if rotated:
                self.new_key(b["key"])
            if isinstance(b["by"], str) and b["sig"] is None:
                if not State.ident(b["by"]) or "convener" not in state.members.get(b["by"], set()):
                    raise Bad("D1", f"{b['by']} is not a convener")
            elif b["by"] is None and isinstance(b["sig"], str):
                if rotated:
                    message = domain_message("signatory-key", {"dialogue": D, "key": b["key"], "reason": r,
                                                               "signatory": b["signatory"]})
                else:
                    message = domain_message("signatory-revoked", {"dialogue": D, "reason": r,
                                                                   "signatory": b["signatory"]})
                ed25519_verify(bytes.fromhex(s["key"]), message, b["sig"], "D1", "the signatory's current key")
            else:
                raise Bad("D1", "exactly one of by and sig is set")
            if rotated:
                self.keys.add(b["key"])
                s["key"] = b["key"]
            else:
                s["revoked"] = r
        elif kind == "declaration.drafted":
            shape(b, ["declaration", "version", "title", "text", "hash", "by"], "D2")
            did = b["declaration"]
            if not State.ident(did) or not State.uint(b["version"]):
                raise Bad("D2", "declaration or version is malformed")
            self.bilingual(b["title"], "title", 200, False, "D2")
            self.bilingual(b["text"], "text", 20000, False, "D2")
            if not State.ident(b["by"]) or b["by"] not in state.members:
                raise Bad("D2", f"{b['by']} is not a member")
            d = self.declarations.setdefault(did, {"versions": [], "open": None})
            if b["version"] != len(d["versions"]) + 1:
                raise Bad("D2", f"version {b['version']} is out of order")
            unsigned = {"declaration": did, "dialogue": D, "text": b["text"], "title": b["title"],
                        "version": b["version"]}
            h = hashlib.sha256(domain_message("declaration", unsigned)).hexdigest()
            if b["hash"] != h:
                raise Bad("D2", f"declaration {did} version {b['version']}: the hash is not its text's")
            d["versions"].append({"hash": h, "signed": set(), "ever": set()})
        elif kind == "declaration.opened":
            shape(b, ["declaration", "version", "closes", "by"], "D2")
            d, _ = self.version(b, "D2")
            closes = record_time(b["closes"], "closes", "D2")
            if b["closes"] <= time or closes is None:
                raise Bad("D2", "signing must close after the line's time")
            if not State.ident(b["by"]) or "convener" not in state.members.get(b["by"], set()):
                raise Bad("D2", f"{b['by']} is not a convener")
            d["open"] = (b["version"], b["closes"])
        elif kind == "declaration.signed":
            shape(b, ["declaration", "version", "signatory", "key", "sig"], "D3")
            d, v = self.version(b, "D3")
            s = self.live(b["signatory"], "D3")
            if b["key"] != s["key"]:
                raise Bad("D3", "signed with a key that is not the signatory's current key")
            if d["open"] is None or d["open"][0] != b["version"]:
                raise Bad("D3", "the version is not open for signing")
            if time > d["open"][1]:
                raise Bad("D3", "signed after signing closed")
            if b["signatory"] in v["ever"]:
                raise Bad("D3", "the signatory already signed this version (a withdrawal is final)")
            message = domain_message("declaration-signature", {"declaration": b["declaration"], "dialogue": D,
                                                               "hash": v["hash"], "version": b["version"]})
            ed25519_verify(bytes.fromhex(s["key"]), message, b["sig"], "D3", "the signatory's")
            v["signed"].add(b["signatory"])
            v["ever"].add(b["signatory"])
        elif kind == "declaration.withdrawn":
            shape(b, ["declaration", "version", "signatory", "reason", "sig"], "D3")
            d, v = self.version(b, "D3")
            s = self.live(b["signatory"], "D3")
            if not isinstance(b["reason"], str) or len(b["reason"]) > 500:
                raise Bad("D3", "reason is not a string of at most 500 characters")
            message = domain_message("declaration-withdrawal", {"declaration": b["declaration"], "dialogue": D,
                                                                "hash": v["hash"], "reason": b["reason"],
                                                                "version": b["version"]})
            ed25519_verify(bytes.fromhex(s["key"]), message, b["sig"], "D3", "the signatory's")
            if b["signatory"] not in v["signed"]:
                raise Bad("D3", "no standing signature to withdraw")
            v["signed"].discard(b["signatory"])
        else:
            raise Bad("D2", f"unknown declaration event {kind}")


# ----- selections (spec §7) -----


def draw_index(seed, m):
    """The rejection-sampling draw of spec §7: an index in 0..m-1 from a 32-byte seed."""
    limit = 2**64 - 1 - ((2**64 - 1) % m + 1) % m
    j = 0
    while True:
        v = int.from_bytes(hashlib.sha256(seed + j.to_bytes(8, "little")).digest()[:8], "little")
        if v <= limit:
            return v % m
        j += 1


class Selections:
    """Spec §7: S1 (order and shape) and S2 (seed and index)."""

    def __init__(self):
        self.by_id = {}
        self.seating_batches = set()

    def apply(self, kind, b, state):
        def s1(detail):
            return Bad("S1", f"{kind}: {detail}")

        def text(v, lo, hi):
            return isinstance(v, str) and lo <= len(v) <= hi

        if not isinstance(b, dict) or not State.ident(b.get("selection")):
            raise s1("no selection id")
        sel = self.by_id.get(b["selection"])
        if kind == "selection.published":
            names = ["selection", "manifest_hash", "pool_hash", "volunteers", "size", "panels", "beacon_source"]
            if set(b) != set(names):
                raise s1("wrong members")
            if sel is not None:
                raise s1("published twice")
            if not all(isinstance(b[h], str) and HEX64.fullmatch(b[h]) for h in ("manifest_hash", "pool_hash")):
                raise s1("hash is not 64 lowercase hex")
            if not all(State.uint(b[n]) for n in ("volunteers", "size", "panels")):
                raise s1("counts are not non-negative integers")
            if b["size"] == 0 or b["size"] > b["volunteers"] or b["panels"] == 0:
                raise s1("impossible sizes")
            if not text(b["beacon_source"], 1, 500):
                raise s1("bad beacon_source")
            self.by_id[b["selection"]] = dict(b, drawn=None, seated=False, batches_before=len(state.batches))
        elif kind == "selection.drawn":
            if set(b) != {"selection", "beacon", "seed", "index", "panel"}:
                raise s1("wrong members")
            if sel is None or sel["drawn"] is not None:
                raise s1("not published, or already drawn")
            if not text(b["beacon"], 1, 500) or not isinstance(b["seed"], str) or not HEX64.fullmatch(b["seed"]):
                raise s1("bad beacon or seed")
            if not State.uint(b["index"]) or not isinstance(b["panel"], list):
                raise s1("bad index or panel")
            panel = b["panel"]
            if not all(text(v, 1, 64) for v in panel) or len(set(panel)) != len(panel) or len(panel) != sel["size"]:
                raise s1("the panel is not size distinct ids")
            seed = hashlib.sha256(bytes.fromhex(sel["manifest_hash"]) + b["beacon"].encode("utf-8")).digest()
            if b["seed"] != seed.hex():
                raise Bad("S2", "seed is not SHA-256(manifest hash || beacon)")
            if b["index"] != draw_index(seed, sel["panels"]):
                raise Bad("S2", "the beacon draws another index")
            sel["drawn"] = panel
        elif kind == "selection.seated":
            if set(b) != {"selection", "batch"}:
                raise s1("wrong members")
            if sel is None or sel["drawn"] is None or sel["seated"]:
                raise s1("not drawn, or already seated")
            batch = b["batch"]
            if state.batch_roles.get(batch) != "delegate" or state.batches[batch][0] != len(sel["drawn"]):
                raise s1("the batch is not delegate invitations for exactly the panel")
            if state.batch_order[batch] < sel["batches_before"]:
                raise s1("the batch was issued before the selection was published")
            if state.batches[batch][1] + state.batches[batch][2] > 0:
                raise s1("the batch was already used")
            if batch in self.seating_batches:
                raise s1("the batch already seated another selection")
            self.seating_batches.add(batch)
            sel["seated"] = True
        else:
            raise s1("unknown event kind")


# ----- elections (spec §6) -----

L = 2**252 + 27742317777372353535851937790883648493
ID = bytes(32)


class Bad(Exception):
    """An election check failed: (check, detail)."""

    def __init__(self, check, detail):
        super().__init__(detail)
        self.check = check


def hexbytes(v, n, what, check):
    if not isinstance(v, str) or len(v) != 2 * n or not re.fullmatch(r"[0-9a-f]*", v):
        raise Bad(check, f"{what} is not {2 * n} lowercase hex digits")
    return bytes.fromhex(v)


def point(v, what, check, nonzero=False):
    b = hexbytes(v, 32, what, check)
    if b == ID:
        if nonzero:
            raise Bad(check, f"{what} is the identity")
        return b
    if not rbcl.crypto_core_ristretto255_is_valid_point(b):
        raise Bad(check, f"{what}: not a canonical encoding")
    return b


def scalar(v, what, check):
    n = int.from_bytes(hexbytes(v, 32, what, check), "little")
    if n >= L:
        raise Bad(check, f"{what}: not a canonical scalar")
    return n


def add(p, q):
    if p == ID:
        return q
    if q == ID:
        return p
    return rbcl.crypto_core_ristretto255_add(p, q)


def sub(p, q):
    if q == ID:
        return p
    return rbcl.crypto_core_ristretto255_sub(p, q)


def mul(n, p):
    n %= L
    if n == 0 or p == ID:
        return ID
    return rbcl.crypto_scalarmult_ristretto255(n.to_bytes(32, "little"), p)


def mul_g(n):
    n %= L
    return ID if n == 0 else rbcl.crypto_scalarmult_ristretto255_base(n.to_bytes(32, "little"))


def u64(n):
    return n.to_bytes(8, "little")


def transcript(tag, *items):
    h = hashlib.sha512()
    for b in [b"hiwar/v1/" + tag.encode(), b"ristretto255", *items]:
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return int.from_bytes(h.digest(), "little") % L


def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def shape(v, names, check):
    if not isinstance(v, dict) or set(v) != set(names):
        raise Bad(check, f"members {sorted(v) if isinstance(v, dict) else v!r} are not {sorted(names)}")
    return v


def nat(v, what, check):
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise Bad(check, f"{what} is not a non-negative integer")
    return v


def ciphertext(v, check, nonzero_alpha):
    shape(v, ["alpha", "beta"], check)
    return point(v["alpha"], "alpha", check, nonzero_alpha), point(v["beta"], "beta", check)


def disjunctive(proof, context, K, ct, values):
    """§6.1: the disjunctive proof that ct encrypts one of `values`."""
    if not isinstance(proof, list) or len(proof) != len(values):
        raise Bad("E6", "wrong number of branches")
    branches = []
    for br in proof:
        shape(br, ["a", "b", "c", "z"], "E6")
        branches.append((point(br["a"], "a", "E6"), point(br["b"], "b", "E6"), scalar(br["c"], "c", "E6"), scalar(br["z"], "z", "E6")))
    alpha, beta = ct
    items = [K, alpha, beta, u64(len(values))] + [u64(m) for m in values]
    for a, b, _, _ in branches:
        items += [a, b]
    c = transcript(*context, *items)
    if sum(br[2] for br in branches) % L != c:
        raise Bad("E6", "challenge shares do not sum to the challenge")
    for (a, b, cj, z), m in zip(branches, values):
        if mul_g(z) != add(a, mul(cj, alpha)) or mul(z, K) != add(b, mul(cj, sub(beta, mul_g(m)))):
            raise Bad("E6", "a branch equation fails")


class Election:
    pass


def ed25519_key(v, what, check):
    """§6.1: a strict Ed25519 public key: canonical, not small order, prime order."""
    key = hexbytes(v, 32, what, check)
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(key):
        raise Bad(check, f"{what} is not a canonical Ed25519 key of prime order")
    return key


def ed25519_verify(key, message, signature, check, who):
    try:
        VerifyKey(key).verify(message, hexbytes(signature, 64, "signature", check))
    except (BadSignatureError, ValueError):
        raise Bad(check, f"the signature is not {who}'s")


def signed_message(kind, election_hash, body):
    """§6.1: what the credential authority or a trustee signs."""
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    return b"hiwar/v2/" + kind.encode() + b"\n" + election_hash + canonical(unsigned)


def tracking_code(election_hash, choices):
    h = hashlib.sha256(b"hiwar/v2/tracking\n" + election_hash)
    for row in choices:
        h.update(len(row).to_bytes(4, "little"))
        for alpha, beta in row:
            h.update(alpha + beta)
    return h.digest()


def equality(context, x, base, d, proof, check, what):
    """§6.1: the Chaum–Pedersen proof that log_G x = log_base d."""
    shape(proof, ["a1", "a2", "z"], check)
    a1, a2, z = point(proof["a1"], "a1", check), point(proof["a2"], "a2", check), scalar(proof["z"], "z", check)
    c = transcript(*context, x, base, d, a1, a2)
    if mul_g(z) != add(a1, mul(c, x)) or mul(z, base) != add(a2, mul(c, d)):
        raise Bad(check, f"{what}: equality of discrete logarithms fails")


class Elections:
    def __init__(self, dialogue):
        self.dialogue = dialogue
        self.elections = {}

    def apply(self, kind, body):
        name = body.get("election") if isinstance(body, dict) else None
        if not isinstance(name, str):
            raise Bad("E1", "body lacks a string election")
        if kind == "election.created":
            return self.created(name, body)
        e = self.elections.get(name)
        if e is None:
            raise Bad("E1", f"election {name} was never created")
        handler = {
            "election.credentials": self.credentials,
            "election.trustee_committed": self.committed,
            "election.trustee_revealed": self.revealed,
            "election.trustee_shares": self.shares,
            "election.trustee_complaint": self.complaint,
            "election.opened": self.opened,
            "ballot.cast": self.cast,
            "ballot.spoiled": self.spoiled,
            "election.closed": self.closed,
            "election.partial_decryption": self.partial,
            "election.result": self.result,
        }.get(kind)
        if handler is None:
            raise Bad("E1", f"unknown event kind {kind}")
        handler(e, body)

    def created(self, name, b):
        shape(b, ["election", "title", "questions", "threshold", "trustees", "weighted", "electorate", "authority", "client"], "E1")
        if not ID_RE.fullmatch(name) or name in self.elections:
            raise Bad("E1", "bad or repeated election id")
        if not State.text(b["title"]) or not isinstance(b["trustees"], list):
            raise Bad("E1", "bad parameters")
        trustees = []
        for t in b["trustees"]:
            shape(t, ["signing_key", "share_key"], "E1")
            trustees.append((ed25519_key(t["signing_key"], "trustee signing key", "E1"), point(t["share_key"], "trustee share key", "E1", nonzero=True)))
        if len({s for s, _ in trustees}) != len(trustees) or len({e for _, e in trustees}) != len(trustees):
            raise Bad("E1", "two trustees share a key")
        n, t = len(trustees), nat(b["threshold"], "threshold", "E1")
        if not 1 <= t <= n <= 1000 or not isinstance(b["weighted"], bool):
            raise Bad("E1", "bad parameters")
        el = shape(b["electorate"], ["voters", "total_weight", "roll"], "E1")
        voters, total = nat(el["voters"], "voters", "E1"), nat(el["total_weight"], "total_weight", "E1")
        hexbytes(el["roll"], 32, "roll", "E1")
        if voters < 1 or total < voters or (not b["weighted"] and total != voters):
            raise Bad("E1", "impossible electorate")
        authority = ed25519_key(b["authority"], "credential authority key", "E1")
        hexbytes(b["client"], 32, "client", "E1")
        if not isinstance(b["questions"], list) or not b["questions"]:
            raise Bad("E1", "no questions")
        questions = []
        for q in b["questions"]:
            shape(q, ["title", "options", "min", "max"], "E1")
            if not State.text(q["title"]) or not isinstance(q["options"], list) or not all(State.text(o) for o in q["options"]):
                raise Bad("E1", "bad question")
            k, lo, hi = len(q["options"]), nat(q["min"], "min", "E1"), nat(q["max"], "max", "E1")
            if not (k >= 1 and lo <= hi <= k):
                raise Bad("E1", "bad question bounds")
            questions.append((k, lo, hi))
        e = Election()
        e.hash = sha256(b"hiwar/v2/election\n", self.dialogue.encode(), b"\n", canonical(b))
        e.questions, e.trustees, e.n, e.t, e.weighted = questions, trustees, n, t, b["weighted"]
        e.voters, e.total_weight, e.authority = voters, total, authority
        e.stage, e.committed, e.revealed, e.dealt, e.failed = "setup", {}, {}, {}, None
        e.credentials, e.listed_weight, e.counters, e.latest, e.tracking, e.cast = {}, 0, {}, {}, set(), 0
        e.key, e.vks, e.partials, e.tally = None, {}, {}, None
        self.elections[name] = e

    def credentials(self, e, b):
        shape(b, ["election", "credentials", "weights", "made_by", "signature"], "E4")
        if e.stage != "setup":
            raise Bad("E4", "credentials after opening")
        if b["made_by"] not in ("authority", "members"):
            raise Bad("E4", "made_by is neither authority nor members")
        ed25519_verify(e.authority, signed_message("election.credentials", e.hash, b), b["signature"], "E4", "the credential authority")
        if not isinstance(b["credentials"], list):
            raise Bad("E4", "credentials is not a list")
        if e.weighted:
            weights = b["weights"]
            if not isinstance(weights, list) or len(weights) != len(b["credentials"]) or not all(nat(w, "weight", "E4") >= 1 for w in weights):
                raise Bad("E4", "bad weights")
        else:
            if b["weights"] is not None:
                raise Bad("E4", "weights in an unweighted election")
            weights = [1] * len(b["credentials"])
        for c, w in zip(b["credentials"], weights):
            key = ed25519_key(c, "credential", "E4")
            if key in e.credentials:
                raise Bad("E4", "a credential listed twice")
            e.credentials[key] = w
            e.listed_weight += w
        if len(e.credentials) > e.voters or e.listed_weight > e.total_weight:
            raise Bad("E4", "more credentials or weight than the electorate")

    def trustee(self, e, v, check):
        i = nat(v, "trustee", check)
        if not 1 <= i <= e.n:
            raise Bad(check, "trustee out of range")
        return i

    def signing_trustee(self, kind, e, b, check):
        i = self.trustee(e, b["trustee"], check)
        ed25519_verify(e.trustees[i - 1][0], signed_message(kind, e.hash, b), b["signature"], check, f"trustee {i}")
        return i

    def committed(self, e, b):
        shape(b, ["election", "trustee", "hash", "signature"], "E2")
        if e.stage != "setup":
            raise Bad("E2", "commitment out of order")
        i = self.signing_trustee("election.trustee_committed", e, b, "E2")
        if e.revealed or i in e.committed:
            raise Bad("E2", "commitment out of order")
        e.committed[i] = hexbytes(b["hash"], 32, "hash", "E2")

    def revealed(self, e, b):
        shape(b, ["election", "trustee", "commitments", "proof", "signature"], "E2")
        if e.stage != "setup":
            raise Bad("E2", "reveal out of order")
        i = self.signing_trustee("election.trustee_revealed", e, b, "E2")
        if len(e.committed) != e.n or i in e.revealed:
            raise Bad("E2", "reveal before every commitment, or twice")
        cs = b["commitments"]
        if not isinstance(cs, list) or len(cs) != e.t:
            raise Bad("E2", "wrong number of commitments")
        cs = [point(c, "commitment", "E2", nonzero=True) for c in cs]
        shape(b["proof"], ["a", "z"], "E2")
        a, z = point(b["proof"]["a"], "a", "E2"), scalar(b["proof"]["z"], "z", "E2")
        if sha256(b"hiwar/v1/trustee-commitment", i.to_bytes(4, "little"), *cs, a, z.to_bytes(32, "little")) != e.committed[i]:
            raise Bad("E2", "reveal does not match its commitment")
        c = transcript("trustee-possession", e.hash, u64(i), cs[0], a)
        if mul_g(z) != add(a, mul(c, cs[0])):
            raise Bad("E2", "proof of possession fails")
        e.revealed[i] = cs

    def shares(self, e, b):
        shape(b, ["election", "trustee", "shares", "signature"], "E2")
        if e.stage != "setup":
            raise Bad("E2", "shares out of order")
        i = self.signing_trustee("election.trustee_shares", e, b, "E2")
        if len(e.revealed) != e.n:
            raise Bad("E2", "shares dealt before every reveal")
        if not isinstance(b["shares"], list) or len(b["shares"]) != e.n:
            raise Bad("E2", "not one share per trustee")
        dealt = []
        for sh in b["shares"]:
            shape(sh, ["ephemeral", "share"], "E2")
            dealt.append((point(sh["ephemeral"], "ephemeral key", "E2", nonzero=True), hexbytes(sh["share"], 32, "encrypted share", "E2")))
        if i in e.dealt:
            raise Bad("E2", "shares dealt twice")
        e.dealt[i] = dealt

    @staticmethod
    def eval_commitments(cs, j):
        acc = ID
        for c in reversed(cs):
            acc = add(mul(j, acc), c)
        return acc

    def complaint(self, e, b):
        shape(b, ["election", "trustee", "dealer", "key", "proof", "signature"], "E3")
        if e.stage != "setup":
            raise Bad("E3", "complaint out of order")
        j = self.signing_trustee("election.trustee_complaint", e, b, "E3")
        i = self.trustee(e, b["dealer"], "E3")
        if i not in e.dealt:
            raise Bad("E3", "complaint about a trustee who dealt no shares")
        R, enc = e.dealt[i][j - 1]
        P = point(b["key"], "complaint key", "E3")
        equality(["share-complaint", e.hash, u64(i), u64(j)], e.trustees[j - 1][1], R, P, b["proof"], "E3", f"trustee {j}'s complaint")
        pad = hashlib.sha512(b"hiwar/v2/share-pad\n" + e.hash + i.to_bytes(4, "little") + j.to_bytes(4, "little") + R + P).digest()[:32]
        share = int.from_bytes(bytes(x ^ y for x, y in zip(enc, pad)), "little")
        if share < L and mul_g(share) == self.eval_commitments(e.revealed[i], j):
            finding = f"trustee {j} complained falsely about trustee {i}'s share"
        else:
            finding = f"trustee {i} dealt trustee {j} a wrong share"
        if e.failed is None:
            e.failed = finding

    def opened(self, e, b):
        shape(b, ["election", "public_key", "verification_keys"], "E3")
        if e.stage != "setup":
            raise Bad("E3", "opening out of order")
        if e.failed is not None:
            raise Bad("E3", f"the key ceremony failed: {e.failed}")
        if len(e.dealt) != e.n:
            raise Bad("E3", "not every trustee dealt its shares")
        key = ID
        for i in sorted(e.revealed):
            key = add(key, e.revealed[i][0])
        if key == ID or point(b["public_key"], "public_key", "E3") != key:
            raise Bad("E3", "public key does not follow from the commitments")
        vks = b["verification_keys"]
        if not isinstance(vks, list) or len(vks) != e.n:
            raise Bad("E3", "wrong number of verification keys")
        for j in range(1, e.n + 1):
            x = ID
            for i in sorted(e.revealed):
                x = add(x, self.eval_commitments(e.revealed[i], j))
            if point(vks[j - 1], "verification key", "E3") != x:
                raise Bad("E3", f"verification key {j} does not follow from the commitments")
            e.vks[j] = x
        if len(e.credentials) != e.voters or e.listed_weight != e.total_weight:
            raise Bad("E4", "the credential list does not match the electorate")
        e.key, e.stage = key, "open"

    def choices(self, e, rows, check):
        if not isinstance(rows, list) or len(rows) != len(e.questions):
            raise Bad(check, "wrong number of answers")
        out = []
        for row, (k, _, _) in zip(rows, e.questions):
            if not isinstance(row, list) or len(row) != k:
                raise Bad(check, "wrong number of options")
            out.append([ciphertext(c, check, True) for c in row])
        return out

    def cast(self, e, b):
        shape(b, ["election", "credential", "counter", "ballot", "signature", "tracking"], "E5")
        if e.stage != "open":
            raise Bad("E5", "ballot outside the voting period")
        tracking = hexbytes(b["tracking"], 32, "tracking", "E5")
        cred = hexbytes(b["credential"], 32, "credential", "E5")
        counter = nat(b["counter"], "counter", "E5")
        if cred not in e.credentials:
            raise Bad("E5", "credential not listed")
        if counter <= e.counters.get(cred, 0):
            raise Bad("E5", "the counter does not exceed the credential's previous ballot (a replay)")
        if tracking in e.tracking:
            raise Bad("E5", "a tracking code appears a second time")
        e.tracking.add(tracking)
        message = b"hiwar/v2/cast\n" + e.hash + u64(counter) + hashlib.sha256(canonical(b["ballot"])).digest()
        ed25519_verify(cred, message, b["signature"], "E5", "the credential")
        ballot = b["ballot"]
        shape(ballot, ["answers"], "E6")
        if not isinstance(ballot["answers"], list) or len(ballot["answers"]) != len(e.questions):
            raise Bad("E6", "wrong number of answers")
        for answer in ballot["answers"]:
            shape(answer, ["choices", "choice_proofs", "selections_proof"], "E6")
        cts = self.choices(e, [a["choices"] for a in ballot["answers"]], "E6")
        if tracking_code(e.hash, cts) != tracking:
            raise Bad("E6", "the tracking code is not the digest of the ballot's ciphertexts")
        for q, (answer, row, (k, lo, hi)) in enumerate(zip(ballot["answers"], cts, e.questions)):
            if not isinstance(answer["choice_proofs"], list) or len(answer["choice_proofs"]) != k:
                raise Bad("E6", "wrong number of proofs")
            for o, (ct, proof) in enumerate(zip(row, answer["choice_proofs"])):
                disjunctive(proof, ["ballot-option", e.hash, cred, u64(q), u64(o)], e.key, ct, [0, 1])
            total = (ID, ID)
            for ct in row:
                total = (add(total[0], ct[0]), add(total[1], ct[1]))
            if lo == 0 and hi == k:
                if answer["selections_proof"] != []:
                    raise Bad("E6", "a selections proof where the bounds are implied")
            else:
                disjunctive(answer["selections_proof"], ["ballot-selections", e.hash, cred, u64(q)], e.key, total, list(range(lo, hi + 1)))
        e.counters[cred] = counter
        e.latest[cred] = cts
        e.cast += 1

    def spoiled(self, e, b):
        shape(b, ["election", "tracking", "choices", "nonces", "plaintext"], "E7")
        if e.stage != "open":
            raise Bad("E7", "spoiled ballot outside the voting period")
        tracking = hexbytes(b["tracking"], 32, "tracking", "E7")
        if tracking in e.tracking:
            raise Bad("E7", "a tracking code appears a second time")
        e.tracking.add(tracking)
        cts = self.choices(e, b["choices"], "E7")
        if tracking_code(e.hash, cts) != tracking:
            raise Bad("E7", "the tracking code is not the digest of the ciphertexts")
        nonces, plain = b["nonces"], b["plaintext"]
        if not isinstance(nonces, list) or not isinstance(plain, list) or len(nonces) != len(cts) or len(plain) != len(cts):
            raise Bad("E7", "nonces or plaintext do not fit the ballot")
        for q_cts, q_r, q_c in zip(cts, nonces, plain):
            if not isinstance(q_r, list) or not isinstance(q_c, list) or len(q_r) != len(q_cts) or len(q_c) != len(q_cts):
                raise Bad("E7", "nonces or plaintext do not fit the ballot")
            for (alpha, beta), r, c in zip(q_cts, q_r, q_c):
                r = scalar(r, "nonce", "E7")
                if c not in (0, 1) or isinstance(c, bool) or alpha != mul_g(r) or beta != add(mul_g(c), mul(r, e.key)):
                    raise Bad("E7", "a spoiled ballot does not open to its published plaintext")

    def closed(self, e, b):
        shape(b, ["election", "counted", "superseded", "tally"], "E8")
        if e.stage != "open":
            raise Bad("E8", "closing out of order")
        counted = len(e.latest)
        if b["counted"] != counted or b["superseded"] != e.cast - counted:
            raise Bad("E8", "counted or superseded numbers differ")
        expected = [[(ID, ID) for _ in range(k)] for k, _, _ in e.questions]
        for cred, cts in e.latest.items():
            w = e.credentials[cred]
            for q, row in enumerate(cts):
                for o, (alpha, beta) in enumerate(row):
                    acc = expected[q][o]
                    expected[q][o] = (add(acc[0], mul(w, alpha)), add(acc[1], mul(w, beta)))
        tally = b["tally"]
        if not isinstance(tally, list) or len(tally) != len(expected):
            raise Bad("E8", "tally shape")
        for row, exp in zip(tally, expected):
            if not isinstance(row, list) or len(row) != len(exp):
                raise Bad("E8", "tally shape")
            for ct, x in zip(row, exp):
                if ciphertext(ct, "E8", False) != x:
                    raise Bad("E8", "the tally is not the weighted sum of the last ballots")
        e.tally, e.stage = expected, "closed"

    def partial(self, e, b):
        shape(b, ["election", "trustee", "shares", "signature"], "E9")
        if e.stage != "closed":
            raise Bad("E9", "partial decryption out of order")
        j = self.signing_trustee("election.partial_decryption", e, b, "E9")
        shares = b["shares"]
        if not isinstance(shares, list) or len(shares) != len(e.tally):
            raise Bad("E9", "shares shape")
        out = []
        for row, trow in zip(shares, e.tally):
            if not isinstance(row, list) or len(row) != len(trow):
                raise Bad("E9", "shares shape")
            orow = []
            for sh, (alpha, _) in zip(row, trow):
                if not isinstance(sh, dict) or "share" not in sh:
                    raise Bad("E9", "a share lacks its point")
                d = point(sh["share"], "share", "E9")
                equality(["partial-decryption", e.hash, u64(j)], e.vks[j], alpha, d,
                         {k: v for k, v in sh.items() if k != "share"}, "E9", f"trustee {j}")
                orow.append(d)
            out.append(orow)
        if j in e.partials:
            raise Bad("E9", f"trustee {j} decrypted twice")
        e.partials[j] = out

    def result(self, e, b):
        shape(b, ["election", "trustees", "counts"], "E10")
        S = b["trustees"]
        if e.stage != "closed" or not isinstance(S, list) or len(set(S)) != len(S) or len(S) < e.t or any(j not in e.partials for j in S):
            raise Bad("E10", "result trustees are not t verified decryptors")
        lam = {}
        for j in S:
            num, den = 1, 1
            for m in S:
                if m != j:
                    num, den = num * m % L, den * (m - j) % L
            lam[j] = num * pow(den, L - 2, L) % L
        counts = b["counts"]
        if not isinstance(counts, list) or len(counts) != len(e.tally):
            raise Bad("E10", "counts shape")
        for q, (row, trow) in enumerate(zip(counts, e.tally)):
            if not isinstance(row, list) or len(row) != len(trow):
                raise Bad("E10", "counts shape")
            for o, (count, (_, beta)) in enumerate(zip(row, trow)):
                xa = ID
                for j in S:
                    xa = add(xa, mul(lam[j], e.partials[j][q][o]))
                if sub(beta, xa) != mul_g(nat(count, "count", "E10")):
                    raise Bad("E10", f"question {q} option {o}: the decryption is not {count}")
        e.stage = "decided"


# §9: witnesses.
CHECKPOINT_DOMAIN = b"hiwar/v1/checkpoint\n"
COSIGNATURE_DOMAIN = b"hiwar/v1/cosignature\n"


def record_time(t, what, check):
    if not isinstance(t, str) or not TIME.fullmatch(t):
        raise Bad(check, f"{what} is not YYYY-MM-DDTHH:MM:SSZ")
    try:
        return datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise Bad(check, f"{what} is not a valid time")


def read_checkpoint(c):
    """§9.1: exactly dialogue, head, sig, size, time, well formed."""
    shape(c, ["dialogue", "head", "sig", "size", "time"], "W1")
    if not State.ident(c["dialogue"]) or not State.uint(c["size"]) or c["size"] < 1:
        raise Bad("W1", "a checkpoint's dialogue or size is malformed")
    hexbytes(c["head"], 32, "head", "W1")
    hexbytes(c["sig"], 64, "checkpoint signature", "W1")
    record_time(c["time"], "a checkpoint's time", "W1")
    return c


def checkpoint_signed(c, dialogue_key):
    unsigned = {k: v for k, v in c.items() if k != "sig"}
    try:
        dialogue_key.verify(CHECKPOINT_DOMAIN + canonical(unsigned), bytes.fromhex(c["sig"]))
    except (BadSignatureError, ValueError):
        raise Bad("W1", f"the checkpoint at size {c['size']} is not signed by the dialogue key")


def read_cosignature(c):
    """§9.1: a witness's signature on a checkpoint and the time it checked it."""
    shape(c, ["checkpoint", "sig", "time", "witness"], "W1")
    read_checkpoint(c["checkpoint"])
    record_time(c["time"], "a co-signature's time", "W1")
    key = ed25519_key(c["witness"], "witness key", "W1")
    unsigned = {k: v for k, v in c.items() if k != "sig"}
    ed25519_verify(key, COSIGNATURE_DOMAIN + canonical(unsigned), c["sig"], "W1", "the witness")
    return c


class Witnesses:
    """§9.2: witness.added and witness.cosigned (W1, W2)."""

    def __init__(self, dialogue):
        self.dialogue = dialogue
        self.heads = []
        self.by_id = {}
        self.keys = set()

    def apply(self, seq, kind, b, state):
        if kind == "witness.added":
            shape(b, ["witness", "name", "key", "by"], "W1")
            if not State.ident(b["witness"]) or not State.ident(b["by"]):
                raise Bad("W1", "witness or by is not an id")
            if not isinstance(b["name"], str) or not 1 <= len(b["name"]) <= 80:
                raise Bad("W1", "a witness's name has 1 to 80 characters")
            if not isinstance(b["key"], str) or not HEX64.fullmatch(b["key"]):
                raise Bad("W1", "the witness key is not 64 lowercase hex")
            ed25519_key(b["key"], "witness key", "W1")
            if "convener" not in state.members.get(b["by"], set()):
                raise Bad("W1", f"{b['by']} is not a convener")
            if b["witness"] in self.by_id or b["key"] in self.keys:
                raise Bad("W1", "the witness or its key was already added")
            self.keys.add(b["key"])
            self.by_id[b["witness"]] = {"name": b["name"], "key": b["key"], "cosigned": None}
        elif kind == "witness.cosigned":
            shape(b, ["witness", "cosignature"], "W1")
            if not State.ident(b["witness"]):
                raise Bad("W1", "witness is not an id")
            w = self.by_id.get(b["witness"])
            if w is None:
                raise Bad("W1", f"witness {b['witness']} was never added")
            c = b["cosignature"]
            if not isinstance(c, dict) or c.get("witness") != w["key"]:
                raise Bad("W1", "the co-signature is by another key than the witness's")
            read_cosignature(c)
            cp = c["checkpoint"]
            if cp["dialogue"] != self.dialogue:
                raise Bad("W1", "the checkpoint is of another dialogue")
            checkpoint_signed(cp, VerifyKey(bytes.fromhex(state.key)))
            if cp["size"] > seq:
                raise Bad("W1", "co-signs a head after its own line")
            if w["cosigned"] is not None and cp["size"] < w["cosigned"][0]:
                raise Bad("W1", "the witness went back")
            if self.heads[cp["size"] - 1] != cp["head"]:
                raise Bad("W2", f"co-signed head {cp['head']} at {cp['size']} lines is not this record's")
            w["cosigned"] = (cp["size"], c["time"])
        else:
            raise Bad("W1", f"unknown witness event {kind}")


def held_in(doc, into):
    """The checkpoints and co-signatures in a /checkpoint document, a receipt, a
    witness's evidence, or a checkpoint itself."""
    if not isinstance(doc, dict):
        raise Bad("W1", "not a JSON object")
    if "head" in doc:
        into[0].append(read_checkpoint(doc))
        return
    if doc.get("checkpoint") is not None:
        into[0].append(read_checkpoint(doc["checkpoint"]))
    for name in ("checkpoints", "cosignatures"):
        if doc.get(name) is not None and not isinstance(doc[name], list):
            raise Bad("W1", f"{name} is not a list")
    for c in doc.get("checkpoints") or []:
        if c is not None:
            into[0].append(read_checkpoint(c))
    for c in doc.get("cosignatures") or []:
        shape(c, ["checkpoint", "sig", "time", "witness"], "W1")
        read_checkpoint(c["checkpoint"])
        hexbytes(c["witness"], 32, "witness", "W1")
        hexbytes(c["sig"], 64, "co-signature", "W1")
        record_time(c["time"], "a co-signature's time", "W1")
        into[1].append(c)


def check_held(lines, dialogue, dialogue_key, checkpoints, cosignatures):
    """W1-W3 for heads held beside the record."""
    for c in cosignatures:
        read_cosignature(c)
    held = checkpoints + [c["checkpoint"] for c in cosignatures]
    for cp in held:
        if cp["dialogue"] != dialogue:
            raise Bad("W1", "a checkpoint of another dialogue was given")
        checkpoint_signed(cp, dialogue_key)
    for cp in held:
        if cp["size"] <= len(lines) and hashlib.sha256(lines[cp["size"] - 1].encode()).hexdigest() != cp["head"]:
            raise Bad("W2", f"the dialogue key signed another head for {cp['size']} lines: two histories")
    for cp in held:
        if cp["size"] > len(lines):
            raise Bad("W3", f"the dialogue key signed a head of {cp['size']} lines; the record has {len(lines)}")


def check_quorum(keys, quorum, max_age, witnesses, cosignatures, content_lines):
    """W4: quorum of the named witnesses co-signed, within max_age seconds, a head of
    this record (every co-signature held already passed W1-W3)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    best = {}
    seen = [(w["key"], w["cosigned"][0], w["cosigned"][1]) for w in witnesses.by_id.values() if w["cosigned"]]
    seen += [(c["witness"], c["checkpoint"]["size"], c["time"]) for c in cosignatures]
    for key, size, t in seen:
        if key not in keys:
            continue
        at = record_time(t, "a co-signature's time", "W4")
        old = best.get(key, (0, at))
        best[key] = (max(old[0], size), max(old[1], at))
    counted = [k for k, (size, at) in best.items() if abs((now - at).total_seconds()) <= max_age]
    if len(counted) < quorum:
        raise Bad("W4", f"{len(counted)} of the named witnesses co-signed this record, {quorum} needed")
    return len(counted)


def verify(data, pinned=None, previous=None, checkpoints=(), cosignatures=(), policy=None):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Failure("R1", None, "not UTF-8")
    if not text or not text.endswith("\n"):
        raise Failure("R1", None, "empty or not newline-terminated")
    lines = text[:-1].split("\n")
    for i, line in enumerate(lines):
        if not line or len(line.encode()) > MAX_LINE:
            raise Failure("R1", i, "empty or oversized line")
    state, key, dialogue, elections, selections = State(), None, None, None, Selections()
    witnesses = None
    prev_hash, prev_time = "0" * 64, ""
    content_lines = 0
    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise Failure("R2", i, f"not JSON: {e}")
        if not isinstance(obj, dict) or set(obj) != FIELDS:
            raise Failure("R2", i, "not an object with exactly the line fields")
        if not all(isinstance(obj[k], str) for k in ("dialogue", "prev", "time", "kind", "sig")):
            raise Failure("R2", i, "a string field is not a string")
        if not State.uint(obj["seq"]) or obj["v"] != 1 or isinstance(obj["v"], bool):
            raise Failure("R2", i, "bad seq or v")
        try:
            if canonical(obj) != line.encode("utf-8"):
                raise Failure("R3", i, "not canonical")
        except ValueError as e:
            raise Failure("R3", i, str(e))
        if obj["seq"] != i:
            raise Failure("R4", i, "wrong seq")
        if i == 0:
            dialogue = obj["dialogue"]
            witnesses = Witnesses(dialogue)
            declarations = Declarations(dialogue)
        elif obj["dialogue"] != dialogue:
            raise Failure("R4", i, "other dialogue")
        if obj["prev"] != prev_hash:
            raise Failure("R5", i, "broken chain")
        kind = obj["kind"]
        if i > 0 and kind.startswith("selection."):
            try:
                selections.apply(kind, obj["body"], state)
            except Bad as e:
                raise Failure(e.check, i, str(e))
        elif i > 0 and kind in ("witness.added", "witness.cosigned"):
            try:
                witnesses.apply(i, kind, obj["body"], state)
            except Bad as e:
                raise Failure(e.check, i, str(e))
        elif i > 0 and (kind.startswith("signatory.") or kind.startswith("declaration.")):
            pass  # checked after the line's signature and time, as the other verifier does
        elif i > 0 and (kind.startswith("election.") or kind.startswith("ballot.")):
            if elections is None:
                elections = Elections(dialogue)
            try:
                elections.apply(kind, obj["body"])
            except Bad as e:
                raise Failure(e.check, i, str(e))
        else:
            try:
                state.apply(i, kind, obj["body"])
            except ValueError as e:
                raise Failure("R6" if i == 0 else "R9", i, str(e))
        if i == 0:
            if pinned is not None and pinned.lower() != state.key:
                raise Failure("R6", i, "not the pinned key")
            try:
                key = VerifyKey(bytes.fromhex(state.key))
            except Exception as e:  # libsodium refuses invalid keys at use
                raise Failure("R6", i, f"bad key: {e}")
        sig = obj["sig"]
        if not HEX64.fullmatch(sig[:64]) or not re.fullmatch(r"[0-9a-f]{128}", sig):
            raise Failure("R7", i, "sig is not 128 lowercase hex")
        unsigned = {k: v for k, v in obj.items() if k != "sig"}
        try:
            key.verify(DOMAIN + canonical(unsigned), bytes.fromhex(sig))
        except (BadSignatureError, ValueError) as e:
            raise Failure("R7", i, f"bad signature ({e})")
        t = obj["time"]
        try:
            datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            raise Failure("R8", i, "bad time")
        if not TIME.fullmatch(t) or t < prev_time:
            raise Failure("R8", i, "bad or decreasing time")
        prev_time = t
        if i > 0 and (kind.startswith("signatory.") or kind.startswith("declaration.")):
            try:
                declarations.apply(t, kind, obj["body"], state)
            except Bad as e:
                raise Failure(e.check, i, str(e))
        prev_hash = hashlib.sha256(line.encode("utf-8")).hexdigest()
        witnesses.heads.append(prev_hash)
        if kind != "witness.cosigned":
            content_lines = i + 1
    if previous is not None and not data.startswith(previous):
        raise Failure("R10", None, "the earlier copy is not a prefix")
    try:
        check_held(lines, dialogue, key, list(checkpoints), list(cosignatures))
        if policy is not None:
            check_quorum(*policy, witnesses, list(cosignatures), content_lines)
    except Bad as e:
        raise Failure(e.check, None, str(e))
    return {"dialogue": dialogue, "lines": len(lines), "members": len(state.members), "head": prev_hash,
            "statements": [(sid, state.digests[sid], sid in state.redacted) for sid in state.digests]}


def check_texts(statements, served):
    """T1: the texts served beside the record (statements.json) against the record's
    salted digests SHA-256("hiwar/v1/statement\n" || salt || text); a redacted one
    must have no text served. Returns how many texts were checked."""
    entries = served.get("statements") if isinstance(served, dict) else None
    if not isinstance(entries, list):
        raise Bad("T1", 'statements.json has no list "statements"')
    by_id = {}
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("statement"), str):
            raise Bad("T1", "a statement entry is not an object with an id")
        if e["statement"] in by_id:
            raise Bad("T1", f"statement {e['statement']} is served twice")
        by_id[e["statement"]] = e
    checked = 0
    for sid, digest, redacted in statements:
        e = by_id.pop(sid, None)
        if e is None:
            raise Bad("T1", f"statement {sid} is in the record but not served")
        if redacted:
            if "text" in e:
                raise Bad("T1", f"statement {sid} was redacted, but its text is still served")
            continue
        text, salt = e.get("text"), e.get("salt")
        if not isinstance(text, str):
            raise Bad("T1", f"statement {sid}: no text served")
        if not isinstance(salt, str) or not re.fullmatch(r"[0-9a-fA-F]{32}", salt):
            raise Bad("T1", f"statement {sid}: the salt is not 16 bytes of hex")
        h = hashlib.sha256(b"hiwar/v1/statement\n" + bytes.fromhex(salt) + text.encode("utf-8")).hexdigest()
        if h != digest:
            raise Bad("T1", f"statement {sid}: the served text is not the one the record committed to")
        checked += 1
    if by_id:
        raise Bad("T1", f"statement {sorted(by_id)[0]} is served but not in the record")
    return checked


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record")
    parser.add_argument("--key")
    parser.add_argument("--previous")
    parser.add_argument("--checkpoint", action="append", default=[])
    parser.add_argument("--witnesses")
    parser.add_argument("--quorum", type=int)
    parser.add_argument("--max-age", type=int, default=600)
    parser.add_argument("--statements", help="statements.json served beside the record, for check T1")
    args = parser.parse_args()
    held, policy, served = ([], []), None, None
    try:
        data = open(args.record, "rb").read()
        previous = open(args.previous, "rb").read() if args.previous else None
        served = json.load(open(args.statements, encoding="utf-8")) if args.statements else None
        for f in args.checkpoint:
            held_in(json.load(open(f)), held)
        if args.witnesses:
            keys = {l.split()[0].lower() for l in open(args.witnesses) if l.split() and not l.startswith("#")}
            if not keys or not all(HEX64.fullmatch(k) for k in keys):
                raise ValueError(f"{args.witnesses}: not a list of witness keys (64 hex digits each)")
            quorum = len(keys) // 2 + 1 if args.quorum is None else args.quorum
            if not 1 <= quorum <= len(keys):
                raise ValueError(f"--quorum {quorum} with {len(keys)} witnesses named")
            policy = (keys, quorum, args.max_age)
    except (OSError, ValueError, Bad) as e:
        # Unreadable input beside the record is not a verdict on the record.
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        summary = verify(data, args.key, previous, held[0], held[1], policy)
    except Failure as f:
        print(f"VERIFICATION FAILED: {f}")
        return 1
    if served is not None:
        try:
            texts = check_texts(summary["statements"], served)
        except Bad as e:
            print(f"VERIFICATION FAILED: {e.check} failed: {e}")
            return 1
        print(f"T1: {texts} statement texts match the record")
    elif summary["statements"]:
        print("T1 was skipped: give --statements statements.json to check the statement texts")
    print(f"all checks hold: {summary['lines']} events, {summary['members']} members, head {summary['head']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
