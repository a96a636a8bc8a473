#!/usr/bin/env python3
"""Two-way interoperability check: the `schooltas` CLI against OpenWallet Foundation's
sd-jwt-python (PyPI `sd-jwt`), which verifies with jwcrypto.

Run through interop/python_sd_jwt.sh, which installs the pinned package and builds the CLI:

    python3 interop/python_sd_jwt.py --schooltas PATH/TO/schooltas

Standard library plus the `sd-jwt` package (and jwcrypto, which it depends on and whose JWK
type its API takes). Prints one line per check; exits non-zero on the first mismatch.
"""

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback

from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

AUD = "https://verifier.schooltas.example"
NONCE = "nonce-4c1f0e2a"
WRONG_NONCE = "nonce-other"
VCT = "https://schooltas.example/credentials/leerling"

NOW = int(time.time())
IAT = NOW - 60
EXP = NOW + 3600

# The claims both issuers sign: nested objects, arrays of scalars and arrays of objects.
CLAIMS = {
    "given_name": "Sanne",
    "family_name": "de Vries",
    "birthdate": "2012-03-04",
    "address": {"street_address": "Dorpsstraat 1", "locality": "Utrecht", "country": "NL"},
    "nationalities": ["NL", "BE", "DE"],
    "groups": [{"name": "7B", "year": 2024}, {"name": "8B", "year": 2025}],
}


class Mismatch(Exception):
    pass


def ok(label):
    print(f"ok    {label}", flush=True)


def fail(label, detail):
    raise Mismatch(f"FAIL  {label}\n      {detail}")


def expect_equal(label, got, want):
    if got != want:
        fail(label, "got:  " + json.dumps(got, sort_keys=True) + "\n      want: " + json.dumps(want, sort_keys=True))


# ---------------------------------------------------------------------------------------------
# The schooltas CLI


class Schooltas:
    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir

    def path(self, name):
        return os.path.join(self.workdir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def run(self, *args, stdin=None):
        return subprocess.run([self.binary, *args], input=stdin, capture_output=True, text=True, cwd=self.workdir)

    def ok(self, *args, stdin=None):
        proc = self.run(*args, stdin=stdin)
        if proc.returncode != 0:
            raise Mismatch(f"FAIL  schooltas {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
        return proc.stdout

    def new_key(self, alg, name):
        """A private JWK file, and its public JWK next to it as NAME.pub; returns (path, public JWK
        dict, did:key)."""
        out = self.ok("key", "new", "--alg", alg, "--out", self.path(name), "--force").splitlines()
        public = json.loads(out[0])
        self.write(name + ".pub", out[0] + "\n")
        return self.path(name), public, out[1]

    def verify(self, presentation, issuer_jwk_path, nonce, aud, typ=None):
        """(exit code, parsed claims or None, stderr)."""
        args = ["verify", "--issuer-jwk", issuer_jwk_path, "--nonce", nonce, "--aud", aud]
        if typ is not None:
            args += ["--typ", typ]
        args.append("-")
        proc = self.run(*args, stdin=presentation)
        claims = json.loads(proc.stdout) if proc.returncode == 0 else None
        return proc.returncode, claims, proc.stderr.strip()


# ---------------------------------------------------------------------------------------------
# sd-jwt-python


def python_verify(presentation, issuer_jwk, nonce, aud):
    """sd-jwt-python's verified payload. The callback hands it the issuer key it is given."""
    seen = {}

    def cb_get_issuer_key(iss, header):
        seen["iss"], seen["header"] = iss, header
        return issuer_jwk

    verifier = SDJWTVerifier(presentation, cb_get_issuer_key, expected_aud=aud, expected_nonce=nonce)
    return verifier.get_verified_payload()


def python_refuses(label, presentation, issuer_jwk, nonce, aud, reason_word):
    try:
        payload = python_verify(presentation, issuer_jwk, nonce, aud)
    except Exception as e:  # noqa: BLE001 - any refusal counts; the word shows it was the right one
        if reason_word not in str(e).lower():
            fail(label, f"sd-jwt-python refused, but not for the expected reason ({reason_word!r}): {e!r}")
        ok(f"{label}: sd-jwt-python refuses ({e})")
        return
    fail(label, "sd-jwt-python accepted it: " + json.dumps(payload, sort_keys=True))


def ours_refuses(label, cli, presentation, issuer_jwk_path, nonce, aud, reason_words, typ=None):
    code, claims, stderr = cli.verify(presentation, issuer_jwk_path, nonce, aud, typ)
    if code == 0:
        fail(label, "schooltas verify accepted it: " + json.dumps(claims, sort_keys=True))
    if not any(word in stderr.lower() for word in reason_words):
        fail(label, f"schooltas verify refused, but not for the expected reason ({reason_words}): {stderr}")
    ok(f"{label}: schooltas refuses ({stderr.removeprefix('schooltas: ')})")


# ---------------------------------------------------------------------------------------------
# Presentations, taken apart and tampered with


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def split(presentation):
    parts = presentation.strip().split("~")
    return parts[0], parts[1:-1], parts[-1]


def tamper_given_name(presentation):
    """The same presentation with the given_name disclosure's value changed (salt and name kept,
    key-binding JWT untouched)."""
    jwt, disclosures, kb = split(presentation)
    changed, found = [], False
    for d in disclosures:
        decoded = json.loads(b64d(d))
        if len(decoded) == 3 and decoded[1] == "given_name":
            decoded[2] = "Mallory"
            d, found = b64e(json.dumps(decoded).encode("utf-8")), True
        changed.append(d)
    if not found:
        raise Mismatch("FAIL  test setup: the presentation has no given_name disclosure to tamper with")
    return "~".join([jwt, *changed, kb])


def resign_kb(presentation, holder_jwk, nonce, aud):
    """The presentation with a fresh, valid key-binding JWT over exactly its current disclosures:
    isolates the check that every disclosure is referenced by a digest from the sd_hash check."""
    jwt, disclosures, _ = split(presentation)
    presented = "~".join([jwt, *disclosures, ""])
    sd_hash = b64e(hashlib.sha256(presented.encode("ascii")).digest())
    kb = JWS(json.dumps({"nonce": nonce, "aud": aud, "iat": int(time.time()), "sd_hash": sd_hash}))
    kb.add_signature(holder_jwk, alg="ES256", protected=json.dumps({"alg": "ES256", "typ": "kb+jwt"}))
    return presented + kb.serialize(compact=True)


# ---------------------------------------------------------------------------------------------
# 1. Ours -> theirs


# What `schooltas issue --sd` makes selectively disclosable, and what the holder discloses.
OUR_SD = [
    "given_name",
    "family_name",
    "birthdate",
    "address",
    "address.street_address",
    "address.locality",
    "nationalities.1",
    "nationalities.2",
    "groups.*",
    "groups.*.year",
]
OUR_DISCLOSE = ["given_name", "address.locality", "nationalities.2", "groups.1.year"]
# The user claims the verifier must see after that (`groups.1.year` reveals element 1 and its year;
# element 0 stays hidden, so the array has one element).
OUR_DISCLOSED_CLAIMS = {
    "given_name": "Sanne",
    "address": {"locality": "Utrecht", "country": "NL"},
    "nationalities": ["NL", "DE"],
    "groups": [{"name": "8B", "year": 2025}],
}


def ours_to_theirs(cli, issuer_alg):
    tag = f"ours->theirs [issuer {issuer_alg}, holder ES256]"
    issuer_key, issuer_pub, issuer_did = cli.new_key(issuer_alg, f"our-issuer-{issuer_alg}.jwk")
    pub_path = issuer_key + ".pub"
    holder_key, holder_pub, _ = cli.new_key("ES256", f"our-holder-{issuer_alg}.jwk")
    claims_file = cli.write("claims.json", json.dumps({"vct": VCT, **CLAIMS}))
    sd_args = [a for path in OUR_SD for a in ("--sd", path)]
    issued = cli.ok(
        "issue", "--issuer-key", issuer_key, "--claims", claims_file, "--holder-jwk", holder_key + ".pub",
        "--iat", str(IAT), "--exp", str(EXP), *sd_args,
    ).strip()
    header = json.loads(b64d(issued.split(".")[0]))
    if header.get("typ") != "dc+sd-jwt":
        fail(tag, f"our issuer header typ is {header.get('typ')!r}, not dc+sd-jwt")

    registered = {"iss": issuer_did, "iat": IAT, "exp": EXP, "vct": VCT, "cnf": {"jwk": holder_pub}}
    issuer_jwk = JWK.from_json(json.dumps(issuer_pub))
    holder_jwk = JWK.from_json(open(holder_key).read())

    # A subset, key-bound to the verifier's nonce and aud.
    disclose_args = [a for path in OUR_DISCLOSE for a in ("--disclose", path)]
    presentation = cli.ok(
        "present", "--credential", "-", "--holder-key", holder_key, "--nonce", NONCE, "--aud", AUD, *disclose_args,
        stdin=issued,
    ).strip()
    theirs = python_verify(presentation, issuer_jwk, NONCE, AUD)
    expect_equal(f"{tag}: subset verified by sd-jwt-python", theirs, {**registered, **OUR_DISCLOSED_CLAIMS})
    visible = [name for name in ("family_name", "birthdate") if name in theirs]
    visible += ["address.street_address"] if "street_address" in theirs.get("address", {}) else []
    if visible:
        fail(tag, f"undisclosed claims are visible: {visible}")
    ok(f"{tag}: subset verified by sd-jwt-python, payload = the disclosed claims, the rest absent")
    code, ours, stderr = cli.verify(presentation, pub_path, NONCE, AUD)
    if code != 0:
        fail(tag, f"schooltas verify refused its own presentation: {stderr}")
    expect_equal(f"{tag}: schooltas verify agrees with sd-jwt-python", ours, theirs)
    ok(f"{tag}: schooltas verify prints the same payload")

    # Everything disclosed.
    every = ["given_name", "family_name", "birthdate", "address", "nationalities", "groups"]
    full = cli.ok(
        "present", "--credential", "-", "--holder-key", holder_key, "--nonce", NONCE, "--aud", AUD,
        *[a for p in every for a in ("--disclose", p)], stdin=issued,
    ).strip()
    expect_equal(f"{tag}: full disclosure", python_verify(full, issuer_jwk, NONCE, AUD), {**registered, **CLAIMS})
    ok(f"{tag}: full disclosure verified by sd-jwt-python, payload = all claims")

    # Their holder on our issuance: sd-jwt-python selects the same subset and signs the KB-JWT.
    py_holder = SDJWTHolder(issued)
    py_holder.create_presentation(PY_DISCLOSE, NONCE, AUD, holder_jwk, "ES256")
    code, ours_of_theirs, stderr = cli.verify(py_holder.sd_jwt_presentation, pub_path, NONCE, AUD)
    if code != 0:
        fail(f"{tag}: sd-jwt-python as holder", f"schooltas verify refused: {stderr}")
    expect_equal(f"{tag}: sd-jwt-python as holder, schooltas verify", ours_of_theirs, theirs)
    expect_equal(f"{tag}: sd-jwt-python as holder, sd-jwt-python verify",
                 python_verify(py_holder.sd_jwt_presentation, issuer_jwk, NONCE, AUD), theirs)
    ok(f"{tag}: sd-jwt-python as holder of our credential: both verifiers print the same payload")

    # Negative: wrong nonce, tampered disclosure.
    python_refuses(f"{tag}: wrong nonce", presentation, issuer_jwk, WRONG_NONCE, AUD, "nonce")
    ours_refuses(f"{tag}: wrong nonce", cli, presentation, pub_path, WRONG_NONCE, AUD, ["nonce"])
    tampered = tamper_given_name(presentation)
    python_refuses(f"{tag}: tampered disclosure", tampered, issuer_jwk, NONCE, AUD, "digest")
    ours_refuses(f"{tag}: tampered disclosure", cli, tampered, pub_path, NONCE, AUD, ["disclosure", "sd_hash", "digest"])
    resigned = resign_kb(tampered, holder_jwk, NONCE, AUD)
    ours_refuses(f"{tag}: tampered disclosure, KB-JWT re-signed over it", cli, resigned, pub_path, NONCE, AUD,
                 ["disclosure", "digest", "referenced"])
    note_python_unreferenced(tag, resigned, issuer_jwk)


def note_python_unreferenced(tag, presentation, issuer_jwk):
    """RFC 9901 §7.1 step 5 says a disclosure no digest refers to makes the SD-JWT invalid;
    sd-jwt-python 0.10.4 drops such a disclosure instead. Reported, not failed: it is theirs."""
    try:
        payload = python_verify(presentation, issuer_jwk, NONCE, AUD)
    except Exception as e:  # noqa: BLE001
        ok(f"{tag}: tampered disclosure, KB-JWT re-signed: sd-jwt-python refuses ({e})")
        return
    shown = payload.get("given_name", "<absent>")
    print(f"note  {tag}: tampered disclosure, KB-JWT re-signed: sd-jwt-python accepts and drops the "
          f"unreferenced disclosure (given_name {shown}); RFC 9901 §7.1 step 5 requires rejection — theirs, not ours",
          flush=True)


# ---------------------------------------------------------------------------------------------
# 2. Theirs -> ours


def python_claims(vc):
    claims = {
        SDObj("given_name"): "Sanne",
        SDObj("family_name"): "de Vries",
        SDObj("birthdate"): "2012-03-04",
        SDObj("address"): {
            SDObj("street_address"): "Dorpsstraat 1",
            SDObj("locality"): "Utrecht",
            "country": "NL",
        },
        "nationalities": ["NL", SDObj("BE"), SDObj("DE")],
        "groups": [SDObj({"name": "7B", SDObj("year"): 2024}), SDObj({"name": "8B", SDObj("year"): 2025})],
    }
    if vc:
        claims.update({"iss": "https://school.example/issuer", "iat": IAT, "exp": EXP, "vct": VCT})
    return claims


# sd-jwt-python's claims_to_disclose for the same subset as OUR_DISCLOSE.
PY_DISCLOSE = {
    "given_name": True,
    "address": {"locality": True},
    "nationalities": [None, False, True],
    "groups": [False, {"year": True}],
}


def generate(alg):
    if alg == "EdDSA":
        return JWK.generate(kty="OKP", crv="Ed25519")
    return JWK.generate(kty="EC", crv="P-256")


def theirs_to_ours(cli, issuer_alg, vc):
    typ = "dc+sd-jwt" if vc else "example+sd-jwt"
    tag = f"theirs->ours [issuer {issuer_alg}, holder ES256, typ {typ}]"
    issuer_jwk = generate(issuer_alg)
    holder_jwk = generate("ES256")
    pub_path = cli.write(f"py-issuer-{issuer_alg}-{typ}.jwk", issuer_jwk.export_public())
    issuer = SDJWTIssuer(
        python_claims(vc), issuer_jwk, holder_key=holder_jwk, sign_alg=issuer_alg,
        extra_header_parameters={"typ": typ},
    )
    holder = SDJWTHolder(issuer.sd_jwt_issuance)
    holder.create_presentation(PY_DISCLOSE, NONCE, AUD, holder_jwk, "ES256")
    presentation = holder.sd_jwt_presentation

    theirs = python_verify(presentation, issuer_jwk, NONCE, AUD)
    registered = {"cnf": {"jwk": json.loads(holder_jwk.export_public())}}
    if vc:
        registered.update({"iss": "https://school.example/issuer", "iat": IAT, "exp": EXP, "vct": VCT})
    expect_equal(f"{tag}: sd-jwt-python's own payload", theirs, {**registered, **OUR_DISCLOSED_CLAIMS})

    typ_arg = None if vc else typ  # an SD-JWT VC is our default; a plain SD-JWT needs --typ
    code, ours, stderr = cli.verify(presentation, pub_path, NONCE, AUD, typ_arg)
    if code != 0:
        fail(f"{tag}: schooltas verify", f"refused a valid presentation from sd-jwt-python: {stderr}")
    expect_equal(f"{tag}: schooltas verify = sd-jwt-python verifier", ours, theirs)
    ok(f"{tag}: schooltas verify accepts it, payload = sd-jwt-python verifier's")

    # Everything disclosed.
    holder.create_presentation(
        # sd-jwt-python reads True for an object as {} (none of its own disclosures): name them all.
        {"given_name": True, "family_name": True, "birthdate": True,
         "address": {"street_address": True, "locality": True},
         "nationalities": [True, True, True], "groups": [{"year": True}, {"year": True}]},
        NONCE, AUD, holder_jwk, "ES256",
    )
    code, ours, stderr = cli.verify(holder.sd_jwt_presentation, pub_path, NONCE, AUD, typ_arg)
    if code != 0:
        fail(f"{tag}: full disclosure", f"schooltas verify refused: {stderr}")
    expect_equal(f"{tag}: full disclosure", ours, {**registered, **CLAIMS})
    ok(f"{tag}: full disclosure accepted by schooltas verify, payload = all claims")

    # Our holder on their issuance: `schooltas present` selects the same subset and signs the KB-JWT.
    holder_path = cli.write(f"py-holder-{issuer_alg}-{typ}.jwk", holder_jwk.export_private())
    ours_presented = cli.ok(
        "present", "--credential", "-", "--holder-key", holder_path, "--nonce", NONCE, "--aud", AUD,
        *[a for path in OUR_DISCLOSE for a in ("--disclose", path)], stdin=issuer.sd_jwt_issuance,
    ).strip()
    expect_equal(f"{tag}: schooltas as holder, sd-jwt-python verify",
                 python_verify(ours_presented, issuer_jwk, NONCE, AUD), theirs)
    code, ours, stderr = cli.verify(ours_presented, pub_path, NONCE, AUD, typ_arg)
    if code != 0:
        fail(f"{tag}: schooltas as holder", f"schooltas verify refused: {stderr}")
    expect_equal(f"{tag}: schooltas as holder, schooltas verify", ours, theirs)
    ok(f"{tag}: schooltas as holder of their credential: both verifiers print the same payload")

    if not vc:
        # A plain SD-JWT is no SD-JWT VC: without --typ our verifier must say no.
        ours_refuses(f"{tag}: plain SD-JWT without --typ", cli, presentation, pub_path, NONCE, AUD, ["typ"])

    # Negative: wrong nonce, tampered disclosure.
    python_refuses(f"{tag}: wrong nonce", presentation, issuer_jwk, WRONG_NONCE, AUD, "nonce")
    ours_refuses(f"{tag}: wrong nonce", cli, presentation, pub_path, WRONG_NONCE, AUD, ["nonce"], typ_arg)
    tampered = tamper_given_name(presentation)
    python_refuses(f"{tag}: tampered disclosure", tampered, issuer_jwk, NONCE, AUD, "digest")
    ours_refuses(f"{tag}: tampered disclosure", cli, tampered, pub_path, NONCE, AUD,
                 ["disclosure", "sd_hash", "digest"], typ_arg)
    resigned = resign_kb(tampered, holder_jwk, NONCE, AUD)
    ours_refuses(f"{tag}: tampered disclosure, KB-JWT re-signed over it", cli, resigned, pub_path, NONCE, AUD,
                 ["disclosure", "digest", "referenced"], typ_arg)


# ---------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schooltas", required=True, help="path to the schooltas binary")
    args = parser.parse_args()

    from importlib.metadata import version

    print(f"sd-jwt {version('sd-jwt')}, jwcrypto {version('jwcrypto')}, cryptography {version('cryptography')}, "
          f"Python {sys.version.split()[0]}")
    print(cli_version(args.schooltas))
    with tempfile.TemporaryDirectory(prefix="schooltas-interop-") as workdir:
        cli = Schooltas(os.path.abspath(args.schooltas), workdir)
        try:
            for alg in ("EdDSA", "ES256"):
                ours_to_theirs(cli, alg)
            for alg in ("EdDSA", "ES256"):
                for vc in (True, False):
                    theirs_to_ours(cli, alg, vc)
        except Mismatch as e:
            print(e, file=sys.stderr)
            return 1
        except Exception:  # noqa: BLE001 - an unexpected error is a failure too
            traceback.print_exc()
            print("FAIL  unexpected error (above)", file=sys.stderr)
            return 1
    print("interop with sd-jwt-python: all checks passed")
    return 0


def cli_version(binary):
    return subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
