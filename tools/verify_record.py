#!/usr/bin/env python3
"""An independent verifier of hiwar public records, written from docs/record-spec.md
alone, on libsodium's Ed25519 (through PyNaCl) and Python's own JSON and SHA-256.

    python3 tools/verify_record.py RECORD.jsonl [--key HEX] [--previous FILE]

Exit 0 when every check holds, 1 naming the first failed check, 2 when unreadable.
"""

import argparse
import datetime
import hashlib
import json
import re
import sys

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

MAX_LINE = 1 << 20
MAX_SAFE = (1 << 53) - 1
FIELDS = {"v", "dialogue", "seq", "prev", "time", "kind", "body", "sig"}
DOMAIN = b"hiwar/record/v1/line\n"
ROLES = {"convener", "participant", "delegate", "trustee", "observer"}
PHASE_KINDS = {"registration", "selection", "deliberation", "decision", "declaration", "closed"}
ID = re.compile(r"^[a-z0-9-]{1,64}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


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
    if not isinstance(s, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
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
        return isinstance(x, str) and ID.match(x) is not None

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
            if not isinstance(b["public_key"], str) or not HEX64.match(b["public_key"]):
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
            if not self.ident(b["batch"]) or b["role"] not in ROLES or not self.uint(b["count"]) or b["count"] < 1:
                raise ValueError("bad codes.issued")
            if b["batch"] in self.batches:
                raise ValueError("batch issued twice")
            self.batches[b["batch"]] = [b["count"], 0, 0]
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
            if b["member"] in self.members or p.lower() in self.pseudonyms:
                raise ValueError("member or pseudonym already present")
            self.pseudonyms.add(p.lower())
            self.members[b["member"]] = {b["role"]}
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
        else:
            raise ValueError(f"unknown event kind {kind!r}")


def verify(data, pinned=None, previous=None):
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
    state, key, dialogue = State(), None, None
    prev_hash, prev_time = "0" * 64, ""
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
        elif obj["dialogue"] != dialogue:
            raise Failure("R4", i, "other dialogue")
        if obj["prev"] != prev_hash:
            raise Failure("R5", i, "broken chain")
        try:
            state.apply(i, obj["kind"], obj["body"])
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
        if not HEX64.match(sig[:64]) or not re.fullmatch(r"[0-9a-f]{128}", sig):
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
        if not TIME.match(t) or t < prev_time:
            raise Failure("R8", i, "bad or decreasing time")
        prev_time = t
        prev_hash = hashlib.sha256(line.encode("utf-8")).hexdigest()
    if previous is not None and not data.startswith(previous):
        raise Failure("R10", None, "the earlier copy is not a prefix")
    return {"dialogue": dialogue, "lines": len(lines), "members": len(state.members), "head": prev_hash}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record")
    parser.add_argument("--key")
    parser.add_argument("--previous")
    args = parser.parse_args()
    try:
        data = open(args.record, "rb").read()
        previous = open(args.previous, "rb").read() if args.previous else None
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        summary = verify(data, args.key, previous)
    except Failure as f:
        print(f"VERIFICATION FAILED: {f}")
        return 1
    print(f"all checks hold: {summary['lines']} events, {summary['members']} members, head {summary['head']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
