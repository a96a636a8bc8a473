#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/seeds/<target>/ (small; committed).

Seeds come from two places:
  * test-vectors/ (RFC 9901 / SD-JWT VC / status list / did:key / did:jwk / RFC 8037 vectors):
    real tokens and documents as other implementations produce them, fed to the "raw" modes;
  * valid Schooltas messages, written in the structured input format of each target
    (mode byte, fields separated by 0xFF, see fuzz/src/lib.rs): the harness signs them with
    its fixed keys, so each seed is a message that passes every check, one mutation away from
    the interesting refusals.

Run from anywhere: python3 fuzz/gen_seeds.py
"""
import base64
import hashlib
import json
import os
import re
import shutil
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "test-vectors")
OUT = os.path.join(ROOT, "fuzz", "seeds")
SEP = b"\xff"

NOW = 1_800_000_000
ENROLMENT = "https://schooltas.example/credentials/enrolment"
GUARDIANSHIP = "https://schooltas.example/credentials/guardianship"
KB_NONCE = "fuzz-nonce-0123456789abcdef"
KB_AUDIENCE = "https://verifier.example"
MAX_SEED = 16 << 10  # keep the committed corpora small


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def structured(mode: int, *fields) -> bytes:
    parts = [f.encode() if isinstance(f, str) else f for f in fields]
    return bytes([mode]) + SEP.join(parts)


def raw(mode: int, text) -> bytes:
    return bytes([mode]) + (text.encode() if isinstance(text, str) else text)


seeds = {}


def add(target: str, data: bytes):
    if len(data) <= MAX_SEED:
        seeds.setdefault(target, []).append(data)


def vector_files(*subdirs):
    for sub in subdirs:
        base = os.path.join(VECTORS, sub)
        for dirpath, _, files in os.walk(base):
            for name in sorted(files):
                if name.endswith(".json"):
                    with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                        try:
                            yield json.load(f)
                        except json.JSONDecodeError:
                            pass


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)


JWS_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")

# ---- tokens from the vectors -------------------------------------------------------------
compact_sd_jwts, json_sd_jwts, jwss = [], [], []
for doc in vector_files("ietf-sd-jwt-rfc9901", "ietf-sd-jwt-vc", "sd-jwt-python", "sd-jwt-js", "rfc8037"):
    for s in strings(doc):
        s = s.strip()
        if "~" in s and s.split("~")[0].count(".") == 2:
            compact_sd_jwts.append(s)
            for part in s.split("~"):
                if JWS_RE.match(part):
                    jwss.append(part)
        elif JWS_RE.match(s):
            jwss.append(s)
        elif s.startswith("{") and '"payload"' in s:
            json_sd_jwts.append(s)
    for key in ("generated_sd_jwt_issuance", "generated_sd_jwt_presentation"):
        v = doc.get(key) if isinstance(doc, dict) else None
        if isinstance(v, dict):
            json_sd_jwts.append(json.dumps(v))
        elif isinstance(v, str) and v.strip().startswith("{"):
            json_sd_jwts.append(v.strip())

compact_sd_jwts = sorted(set(compact_sd_jwts))[:24]
json_sd_jwts = sorted(set(json_sd_jwts))[:12]
jwss = sorted(set(jwss))[:24]

# ---- jws ---------------------------------------------------------------------------------
for t in jwss:
    add("jws", raw(0, t))
# The known panic of issue 12 item 12: `{"alg":"mʔS"}` slices inside a character.
panic_header = '{"alg":"mʔS"}'.encode()
add("jws", raw(0, b64(panic_header) + ".e30." + b64(bytes(64))))
add("jws", structured(1, panic_header, b"{}"))
add("jws", structured(1, b'{"alg":"EdDSA","typ":"JWT","kid":"did:key:z6Mk#z6Mk"}', b'{"iss":"x","iat":1}', "JWT", "kid-1"))
add("jws", structured(3, b'{"alg":"ES256"}', b"hello"))
add("jws", structured(1, b'{"alg":"EdDSA","crit":["b64"],"b64":false}', b"{}"))
add("jws", structured(1, b'{"alg":"EdDSA","alg":"none"}', b"{}"))
add("jws", structured(1, b'{"alg":"HS256"}', b"{}"))

# ---- SD-JWT compact / JSON ----------------------------------------------------------------
disclosures = "\n".join([
    json.dumps(["salt-given-0123456789", "given_name", "Sanne"]),
    json.dumps(["salt-group-0123456789", "group", "7B"]),
    json.dumps(["salt-nl-0123456789ab", "NL"]),
    json.dumps(["salt-street-01234567", "street", "Dorpsstraat 1"]),
    json.dumps(["salt-age-0123456789a", "age_over_12", True]),
])
payload = json.dumps({
    "iss": "$ISS", "vct": ENROLMENT, "iat": "$NOW", "exp": NOW + 86_400, "cnf": "$CNF",
    "_sd": ["$D0", "$D1", "$D4"], "_sd_alg": "sha-256",
    "nationalities": [{"...": "$D2"}, "MA"],
    "address": {"_sd": ["$D3"], "city": "Utrecht"},
    "status": {"status_list": {"idx": 7, "uri": "https://school.example/status/1"}},
})
kb_payload = json.dumps({"nonce": KB_NONCE, "aud": KB_AUDIENCE, "iat": "$NOW", "sd_hash": "$SD_HASH"})
for t in compact_sd_jwts:
    add("sd_jwt_compact", raw(0, t))
add("sd_jwt_compact", structured(1, "", payload, disclosures, "", kb_payload))
add("sd_jwt_compact", structured(2, "", payload, disclosures))
add("sd_jwt_compact", structured(1, '"x5c":["AA"]', payload.replace('"$D4"', '"$D4","$D4"'), disclosures, "", kb_payload))
add("sd_jwt_compact", structured(0x82, "", payload, disclosures))
recursive = "\n".join([
    json.dumps(["s-0123456789abcdef01", "region", "Utrecht"]),
    json.dumps(["s-0123456789abcdef02", "address", {"_sd": ["$D0"]}]),
])
add("sd_jwt_compact", structured(2, "", json.dumps({"iss": "$ISS", "vct": ENROLMENT, "iat": "$NOW", "_sd": "$SD"}), recursive))

general = json.dumps({"payload": "$PAYLOAD", "signatures": [
    {"protected": "$PROTECTED", "signature": "$SIGNATURE", "header": {"disclosures": "$DISCLOSURES", "kb_jwt": "$KB"}},
    {"protected": "$PROTECTED", "signature": "$SIGNATURE", "header": {"kid": "second"}},
]})
for t in json_sd_jwts:
    add("sd_jwt_json", raw(0, t))
add("sd_jwt_json", structured(1, "", payload, disclosures, "", kb_payload, ""))
add("sd_jwt_json", structured(1, "", payload, disclosures, "", kb_payload, general))
add("sd_jwt_json", structured(2, "", payload, disclosures, "", "", ""))

# ---- status lists --------------------------------------------------------------------------
status_docs = list(vector_files("ietf-status-list"))
for doc in status_docs:
    for s in strings(doc):
        s = s.strip()
        if JWS_RE.match(s):
            add("status_list", raw(0, s))
    for item in (doc if isinstance(doc, list) else doc.get("vectors", doc.values()) if isinstance(doc, dict) else []):
        if isinstance(item, dict):
            for v in item.values():
                if isinstance(v, dict) and "bits" in v and "lst" in v:
                    add("status_list", structured(2, json.dumps(v)))
                    try:
                        add("status_list", raw(3, base64.urlsafe_b64decode(v["lst"] + "=" * (-len(v["lst"]) % 4))))
                    except Exception:
                        pass
for name in sorted(os.listdir(os.path.join(VECTORS, "ietf-status-list", "examples"))):
    with open(os.path.join(VECTORS, "ietf-status-list", "examples", name), encoding="utf-8") as f:
        text = f.read()
    for m in re.finditer(r'\{\s*"bits"\s*:\s*\d+\s*,\s*"lst"\s*:\s*"[A-Za-z0-9_\s-]+"\s*\}', text):
        value = re.sub(r"\s+", "", m.group(0))
        add("status_list", structured(2, value))
status_payload = json.dumps({"sub": "https://school.example/status/1", "iss": "$ISS", "iat": "$NOW",
                             "exp": NOW + 3600, "ttl": 300, "status_list": {"bits": 2, "lst": "$LST"}})
add("status_list", structured(1, "", status_payload, bytes([0b00011011, 0, 0x80, 1])))
add("status_list", structured(1, '"x":1', status_payload.replace('"bits": 2', '"bits": 8'), bytes(range(64))))
add("status_list", raw(3, zlib.compress(bytes(4096), 9)))
add("status_list", raw(3, zlib.compress(b"\x00" * (2 << 20), 9)))  # inflates past the harness limit
add("status_list", structured(4, json.dumps({"status_list": {"idx": 7, "uri": "https://school.example/status/1"}}),
                              "https://school.example/status/1"))

# ---- DIDs and documents ---------------------------------------------------------------------
dids = set()
for doc in vector_files("did-key", "did-jwk"):
    for s in strings(doc):
        if s.startswith("did:"):
            dids.add(s)
    if isinstance(doc, dict):
        for v in doc.values():
            if isinstance(v, dict):
                for w in v.values():
                    if isinstance(w, dict) and "didDocument" in w:
                        add("did_document", raw(0, json.dumps(w["didDocument"])))
for d in sorted(dids)[:40]:
    add("did", d.encode())
for d in ["did:web:school.example", "did:web:school.example%3A8443:users:alice", "did:web:localhost%3A8080",
          "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
          "https://school.example/.well-known/did.json", "https://school.example:8443/users/alice/did.json",
          "did:example:123/path?query=1#frag", "did:jwk:eyJrdHkiOiJPS1AiLCJjcnYiOiJFZDI1NTE5IiwieCI6IjExcVlBWUt4Q3JmVlNfN1R5V1FIT2c3aGN2UGFwaU1scndJYWFQY0hVUm8ifQ#0"]:
    add("did", d.encode())
web_doc = {"@context": ["https://www.w3.org/ns/did/v1"], "id": "did:web:school.example",
           "verificationMethod": [{"id": "#key-1", "type": "JsonWebKey2020", "controller": "did:web:school.example",
                                   "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}},
                                  {"id": "did:web:school.example#key-2", "type": "Multikey", "controller": "did:web:school.example",
                                   "publicKeyMultibase": "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}],
           "assertionMethod": ["#key-1", "did:web:school.example#key-2"], "authentication": ["#key-1"]}
add("did_document", raw(0, json.dumps(web_doc)))
add("did_document", raw(1, json.dumps(dict(web_doc, id="did:web:school.example%3A8443:users:alice"))))

# ---- OID4VCI --------------------------------------------------------------------------------
offer = {"credential_issuer": "https://school.example", "credential_configuration_ids": ["enrolment"],
         "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {
             "pre-authorized_code": "code-0123456789abcdef", "tx_code": {"input_mode": "numeric", "length": 6, "description": "PIN"}}}}
add("oid4vci", raw(0, json.dumps(offer)))
add("oid4vci", raw(1, "openid-credential-offer://?credential_offer=" + re.sub(r"[^A-Za-z0-9]", lambda m: "%%%02X" % ord(m.group(0)), json.dumps(offer))))
add("oid4vci", raw(1, "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fschool.example%2Foffers%2F1"))
metadata = {"credential_issuer": "https://school.example", "credential_endpoint": "https://school.example/credential",
            "nonce_endpoint": "https://school.example/nonce", "batch_credential_issuance": {"batch_size": 4},
            "credential_configurations_supported": {"enrolment": {"format": "dc+sd-jwt", "vct": ENROLMENT,
                "cryptographic_binding_methods_supported": ["jwk"], "credential_signing_alg_values_supported": ["EdDSA", "ES256"],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["EdDSA", "ES256"]}}}}}
add("oid4vci", raw(2, json.dumps(metadata)))
add("oid4vci", raw(3, json.dumps({"issuer": "https://school.example", "token_endpoint": "https://school.example/token",
                                  "pre-authorized_grant_anonymous_access_supported": True})))
add("oid4vci", raw(4, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=code-0123456789abcdef&tx_code=123456"))
add("oid4vci", raw(5, json.dumps({"access_token": "at-0123456789abcdef", "token_type": "Bearer", "expires_in": 300})))
add("oid4vci", raw(6, json.dumps({"c_nonce": "cn-0123456789abcdef"})))
add("oid4vci", raw(7, json.dumps({"credential_configuration_id": "enrolment", "proofs": {"jwt": [jwss[0] if jwss else "a.b.c"]}})))
add("oid4vci", raw(8, json.dumps({"credentials": [{"credential": compact_sd_jwts[0] if compact_sd_jwts else "x~"}]})))
add("oid4vci", raw(8, json.dumps({"error": "invalid_proof", "error_description": "the proof is too old"})))
add("oid4vci", structured(9, '"jwk":"$JWK"', json.dumps({"aud": "https://school.example", "iat": "$NOW", "nonce": "cn-0123456789abcdef", "iss": "wallet"})))
add("oid4vci", structured(9, '"kid":"$KID"', json.dumps({"aud": ["https://school.example"], "iat": "$NOW", "nonce": "n"})))

# ---- OID4VP ---------------------------------------------------------------------------------
dcql = {"credentials": [{"id": "pupil", "format": "dc+sd-jwt", "meta": {"vct_values": [ENROLMENT]},
                         "claims": [{"id": "n", "path": ["given_name"]}, {"id": "g", "path": ["group"], "values": ["7B", "8A"]},
                                    {"id": "a", "path": ["nationalities", None]}],
                         "claim_sets": [["n", "g"], ["n"]], "multiple": False, "require_cryptographic_holder_binding": True},
                        {"id": "guardian", "format": "dc+sd-jwt", "meta": {"vct_values": [GUARDIANSHIP]},
                         "claims": [{"path": ["child_id"]}, {"path": ["relation"]}]}],
        "credential_sets": [{"options": [["pupil"], ["pupil", "guardian"]], "required": True}]}
request = {"client_id": "$CLIENT_ID", "response_type": "vp_token", "response_mode": "direct_post",
           "response_uri": "https://verifier.example/response", "nonce": "nonce-0123456789abcdef", "state": "state-0123456789abcdef",
           "dcql_query": dcql, "aud": "https://self-issued.me/v2", "iat": "$NOW", "exp": NOW + 300,
           "transaction_data": [b64(json.dumps({"type": "photo", "credential_ids": ["pupil"], "photo_hash": "abc"}).encode())],
           "schooltas": {"purpose": {"code": "newsletter", "text": {"nl": "Nieuwsbrief", "en": "Newsletter"}},
                         "legal_basis": "consent", "retention_days": 365, "query_bases": {"guardian": "consent"}}}
add("oid4vp_request", structured(2, "", json.dumps(request)))
add("oid4vp_request", structured(2, '"x5c":["AA"]', json.dumps(dict(request, response_mode="direct_post.jwt"))))
for t in jwss[:4]:
    add("oid4vp_request", raw(0, t))
add("oid4vp_request", raw(1, "openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3Az6Mk&request_uri=https%3A%2F%2Fverifier.example%2Frequest%2F1"))
add("oid4vp_request", raw(1, "openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3Az6Mk&request=" + (jwss[0] if jwss else "a.b.c")))
add("dcql", raw(0, json.dumps(dcql)))
add("dcql", raw(0, json.dumps({"credentials": [{"id": "any", "format": "dc+sd-jwt", "meta": {"vct_values": [ENROLMENT]}, "multiple": True}]})))
add("dcql", raw(1, json.dumps(["address", "street", None, 0])))
add("dcql", raw(1, "address.street"))
vp = compact_sd_jwts[0] if compact_sd_jwts else "x~"
add("oid4vp_response", raw(0, "vp_token=" + re.sub(r"[^A-Za-z0-9._~-]", lambda m: "%%%02X" % ord(m.group(0)), json.dumps({"pupil": [vp]})) + "&state=state-0123456789abcdef"))
add("oid4vp_response", raw(1, json.dumps({"vp_token": {"pupil": [vp], "guardian": [vp]}, "state": "state-0123456789abcdef", "guardian_approval": "a.b.c"})))
add("oid4vp_response", raw(2, b64(json.dumps({"type": "photo", "credential_ids": ["pupil"], "transaction_data_hashes_alg": ["sha-256"]}).encode())))
add("oid4vp_response", raw(2, "caf%C3%A9+au+lait%20%2B"))

# ---- trust lists ----------------------------------------------------------------------------
trust = {"iss": "$ISS", "iat": "$NOW", "exp": NOW + 86_400,
         "issuers": [{"did": "$ISS", "name": "De Regenboog", "brin": "12AB", "credential_types": [ENROLMENT, GUARDIANSHIP]}],
         "verifiers": [{"did": "$ISS", "name": "Fotograaf", "purposes": [{"code": "newsletter",
             "text": {"nl": "Nieuwsbrief", "en": "Newsletter"}, "legal_basis": "consent", "max_retention_days": 365,
             "credentials": [{"vct": ENROLMENT, "claims": [["given_name"], ["group"], ["nationalities", None]], "legal_basis": "consent"}]}]}]}
add("trust_list", structured(1, "", json.dumps(trust)))
add("trust_list", structured(1, "", json.dumps(dict(trust, issuers=trust["issuers"] * 2))))
for t in jwss[:3]:
    add("trust_list", raw(0, t))

# ---- consent --------------------------------------------------------------------------------
approval = {"aud": KB_AUDIENCE, "nonce": KB_NONCE, "iat": "$NOW", "purpose": "newsletter", "legal_basis": "consent",
            "child_id": "urn:uuid:child-Sanne", "presentations": [{"credential_query_id": "pupil", "sd_hash": "$CHILD_SD_HASH"}],
            "transaction_data_hashes": ["abc"], "guardianship": "$GUARDIANSHIP"}
add("consent", structured(2, "", json.dumps(approval)))
add("consent", structured(0x42, "", json.dumps(approval)))
add("consent", structured(2, "", json.dumps(dict(approval, legal_basis="legal_obligation"))))
withdrawal = {"aud": KB_AUDIENCE, "nonce": KB_NONCE, "purpose": "newsletter", "iat": "$NOW", "jti": "jti-0123456789abcdef"}
add("consent", structured(3, "", json.dumps(withdrawal)))
for t in jwss[:3]:
    add("consent", raw(0, t))
    add("consent", raw(1, t))

# ---- wallet export --------------------------------------------------------------------------
records = [{"kind": "credential", "id": "c-0001", "data": b64(b"an SD-JWT would be here")},
           {"kind": "log", "id": "0000000001", "data": b64(b'{"event":"received"}')}]
add("wallet_import", raw(1, json.dumps(records)))
add("wallet_import", raw(1, json.dumps([{"kind": "../x", "id": "", "data": "!!"}])))
add("wallet_import", raw(0, json.dumps({"format": "schooltas-wallet/1", "salt": b64(bytes(16)),
                                        "params": {"memory_kib": 64, "iterations": 1, "parallelism": 1},
                                        "nonce": b64(bytes(24)), "ciphertext": b64(bytes(48))})))

# ---- catalog ----------------------------------------------------------------------------------
enrolment = {"iss": "did:web:school.example", "vct": "https://schooltas.nl/credentials/enrolment/v1", "iat": NOW,
             "school_name": "De Regenboog", "school_brin": "12AB", "school_year": "2026-2027", "group": "7B",
             "given_name": "Sanne", "family_name": "de Vries", "birth_date": "2014-03-01", "age_over_12": True}
add("catalog", json.dumps(enrolment).encode())
add("catalog", json.dumps({"child_id": "did:key:z6Mk", "relation": "parent", "valid_until": "2030-03-01",
                           "advice": ["havo", "vwo"], "administrative": {"given_name": "S"}}).encode())
add("catalog", b"2024-02-29")
add("catalog", (NOW).to_bytes(8, "little", signed=True) + (16).to_bytes(4, "little"))

# ---- the verifier pipeline ----------------------------------------------------------------------
kb_vp = json.dumps({"nonce": KB_NONCE, "aud": "$CLIENT_ID", "iat": "$NOW", "sd_hash": "$SD_HASH"})
pupil_payload = json.dumps({"iss": "$ISS", "vct": ENROLMENT, "iat": "$NOW", "exp": NOW + 86_400, "cnf": "$CNF",
                            "sub": "urn:uuid:child-Sanne", "_sd": "$SD", "_sd_alg": "sha-256",
                            "status": {"status_list": {"idx": 7, "uri": "https://school.example/status/1"}}})
pupil_disclosures = "\n".join([json.dumps(["s-pupil-000000000001", "given_name", "Sanne"]),
                               json.dumps(["s-pupil-000000000002", "group", "7B"]),
                               json.dumps(["s-pupil-000000000003", "age_over_12", True]),
                               json.dumps(["s-pupil-000000000004", "birth_date", "2014-03-01"])])
guardian_payload = json.dumps({"iss": "$ISS", "vct": GUARDIANSHIP, "iat": "$NOW", "exp": NOW + 86_400, "cnf": "$CNF",
                               "_sd": "$SD", "status": {"status_list": {"idx": 9, "uri": "https://school.example/status/1"}}})
guardian_disclosures = "\n".join([json.dumps(["s-guard-000000000001", "child_id", "urn:uuid:child-Sanne"]),
                                  json.dumps(["s-guard-000000000002", "relation", "parent"])])
body = json.dumps({"vp_token": {"pupil": ["$P0"], "guardian": ["$P1"]}, "state": "state-0123456789abcdef"})
for mode in (1, 2, 0x81):
    add("verifier_response", structured(mode, "", pupil_payload, pupil_disclosures, "", kb_vp,
                                        "", guardian_payload, guardian_disclosures, "", kb_vp, body))
add("verifier_response", structured(1, "", pupil_payload, pupil_disclosures, "", kb_vp, "", "", "", "", "",
                                    json.dumps({"vp_token": {"pupil": ["$P0", "$P0"]}, "state": "state-0123456789abcdef"})))
add("verifier_response", raw(0, "vp_token=%7B%22pupil%22%3A%5B%22" + (compact_sd_jwts[0] if compact_sd_jwts else "x~") + "%22%5D%7D&state=state-0123456789abcdef"))

# ---- write ------------------------------------------------------------------------------------
for target, items in seeds.items():
    directory = os.path.join(OUT, target)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    for data in items:
        with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    print(f"{target}: {len(items)} seeds")
