"""Fixtures of the Python flow test: the generated bindings on `sys.path`, the school's
services (`cargo run -p schooltas-ffi --example test_school`) in a child process on loopback,
and wallets made through the bindings.

`run.sh` sets the two environment variables: `SCHOOLTAS_FFI_BINDINGS` (the folder with the
generated `schooltas_ffi.py` and the library beside it) and `SCHOOLTAS_TEST_SCHOOL` (the built
`test_school` example).
"""

import json
import os
import secrets
import subprocess
import sys
import threading
import urllib.request

import pytest

sys.path.insert(0, os.environ["SCHOOLTAS_FFI_BINDINGS"])

import schooltas_ffi as ffi  # noqa: E402  (the path above first)


class School:
    """The school's services: the issuer, the newsletter desk (its verifier and consent
    register) and the guardian relay, driven through the helper's stdin/stdout lines."""

    def __init__(self, process, ready):
        self._process = process
        self._lock = threading.Lock()
        self.now = ready["now"]
        self.ready = ready
        self.relay_base = ready["relay_base"]
        self.desk_did = ready["desk_did"]
        self.desk_name = ready["desk_name"]
        self.photo_hash = ready["photo_hash"]
        self.consents_path = ready["consents_path"]
        self._desk_admin = ready["desk_admin"]
        self._staff_token = ready["staff_token"]
        # Loopback only, and no proxy from the environment in between.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _ask(self, command):
        with self._lock:
            self._process.stdin.write(command + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"test_school stopped at {command!r} (its standard error says why)")
        answer = json.loads(line)
        if "command_error" in answer:
            raise RuntimeError(answer["command_error"])
        return answer

    def family(self, given_name, subject, birth_date):
        """Registers a pupil and a parent; their offers and PINs (the letter home)."""
        return self._ask(f"family {given_name} {subject} {birth_date}")

    def session(self):
        """A photo-consent session at the desk: `{"id", "uri"}` (the QR code's request)."""
        return self._ask("session")

    def outcome(self, session_id):
        """What the desk made of a session."""
        return self._ask(f"outcome {session_id}")

    def staff_get(self, path_and_query):
        """A GET on the desk's staff endpoint (loopback HTTP, bearer token): status, JSON."""
        request = urllib.request.Request(
            self._desk_admin + path_and_query, headers={"Authorization": f"Bearer {self._staff_token}"}
        )
        try:
            with self._opener.open(request, timeout=20) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read() or b"null")

    def config(self):
        """What a wallet trusts: the trust list, its operator, the test CA; loopback allowed."""
        return ffi.WalletConfig(
            trust_list_jwt=self.ready["trust_list_jwt"],
            trust_list_operator=self.ready["trust_list_operator"],
            trust_roots_pem=self.ready["ca_pem"],
            dangerous_allow_private_addresses=True,
        )


@pytest.fixture(scope="session")
def school(tmp_path_factory):
    folder = tmp_path_factory.mktemp("school")
    process = subprocess.Popen(
        [os.environ["SCHOOLTAS_TEST_SCHOOL"], str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("test_school did not start (its standard error says why)")
        yield School(process, json.loads(line))
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Wallets:
    """Makes wallet files in a temporary folder, each unlocked by a platform key."""

    def __init__(self, school, folder):
        self._school = school
        self._folder = folder
        self._count = 0

    def make(self, role, key_store, platform_key=None):
        """A new wallet (and its file path and platform key) for `role` with `key_store`."""
        self._count += 1
        path = str(self._folder / f"wallet-{self._count}.sqlite")
        platform_key = platform_key or secrets.token_bytes(32)
        wallet = ffi.Wallet.create(
            path,
            ffi.WalletUnlock.PLATFORM_KEY(key=platform_key),
            role,
            self._school.config(),
            key_store,
            self._school.now,
        )
        return wallet, path, platform_key


@pytest.fixture
def wallets(school, tmp_path):
    return Wallets(school, tmp_path)
