"""A phone's secure element, played by Python: P-256 keys made and used by PyPI `cryptography`.

It implements the bindings' `ForeignKeyStore` callback interface as an Android Keystore or iOS
Secure Enclave wrapper would: it offers ES256 only, keeps the private keys to itself (the
wallet file records only each key's reference and public JWK) and signs the JWS signing
input with ECDSA P-256 / SHA-256, converting the DER signature `cryptography` returns (as
Android's `Signature` and iOS' `SecKeyCreateSignature` do) to the raw 64 bytes `r || s` JWS
wants.
"""

import base64
import itertools
import json
import threading

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import schooltas_ffi as ffi


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SecureElement(ffi.ForeignKeyStore):
    """ES256 keys in memory, named by an alias; counts what it signed.

    `mode` plays what goes wrong on a phone: `"cancel"` — the person dismisses the biometric
    prompt (the store reports `WalletError.Signer`); `"der"` — the app forgot to convert the
    platform's DER signature.
    """

    def __init__(self, name: str):
        self.mode = "ok"
        self._name = name
        self._keys = {}
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.signatures = 0

    def algorithms(self):
        return [ffi.KeyAlgorithm.ES256]

    def generate(self, algorithm):
        if algorithm != ffi.KeyAlgorithm.ES256:
            raise ffi.WalletError.Signer(message="this secure element makes P-256 keys only")
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        with self._lock:
            reference = f"{self._name}-key-{next(self._counter)}"
            self._keys[reference] = key
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }
        return ffi.ForeignKey(reference=reference, public_jwk=json.dumps(jwk))

    def sign(self, reference, message):
        with self._lock:
            key = self._keys.get(reference)
        if key is None:
            raise ffi.WalletError.Signer(message=f"no key {reference} in this secure element")
        if self.mode == "cancel":
            raise ffi.WalletError.Signer(message="the user cancelled the fingerprint prompt")
        der = key.sign(bytes(message), ec.ECDSA(hashes.SHA256()))
        if self.mode == "der":
            return der
        r, s = decode_dss_signature(der)
        with self._lock:
            self.signatures += 1
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def key_count(self) -> int:
        with self._lock:
            return len(self._keys)
