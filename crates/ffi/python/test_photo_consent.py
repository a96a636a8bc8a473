"""The photo-consent flow from Python, through the UniFFI bindings, with the holder keys in a
Python "secure element" (P-256, `secure_element.py`), against the school's services on
loopback: the child's and the parent's wallets receive their credentials, the desk asks for
a photo consent, the child assents, the request goes to the parent's phone through the relay,
the parent approves and the answer comes back, the child's wallet posts it and the desk
accepts; a second parent refuses; a consent is withdrawn; the logs are exported. Then the
refusals, each a specific `WalletError` crossing the boundary with its message.
"""

import json
import urllib.parse

import pytest

import schooltas_ffi as ffi
from secure_element import SecureElement

# Born 1 September 2014: 12 at the services' clock (15 January 2027), so a parent decides.
SANNE = ("Sanne", "pupil-0417", "2014-09-01")
DAAN = ("Daan", "pupil-0533", "2015-02-10")


def family_wallets(school, wallets, who):
    """A family's offers redeemed: the child's and the parent's wallet, each with its own
    secure element, three copies each."""
    given_name, subject, birth_date = who
    letters = school.family(given_name, subject, birth_date)
    child_keys, parent_keys = SecureElement(f"{subject}-child"), SecureElement(f"{subject}-parent")
    child, _, _ = wallets.make(ffi.WalletRole.CHILD(birth_date=birth_date), child_keys)
    parent, _, _ = wallets.make(ffi.WalletRole.PARENT(), parent_keys)
    got = child.receive_offer(letters["child_offer"], letters["child_pin"], 3, school.now)
    assert [(r.configuration, r.copies) for r in got] == [("pupil_enrolment", 3)]
    got = parent.receive_offer(letters["parent_offer"], letters["parent_pin"], 3, school.now)
    assert [(r.configuration, r.copies) for r in got] == [("guardianship", 3)]
    return child, child_keys, parent, parent_keys


def hand_over_and_answer(school, child, parent, request, approve):
    """The child's phone leaves the request at the relay; the parent's phone fetches it from
    the link (the QR code), reviews and answers; the child's phone picks the answer up."""
    hand_over = child.hand_over_to_guardian(request, school.relay_base)
    assert hand_over.link().startswith(school.relay_base)
    assert child.poll_guardian_answer(hand_over) is None, "no answer before the parent gave one"
    for_parent = parent.fetch_child_request(hand_over.link())
    review = parent.review_child_request(for_parent, school.now)
    answer = parent.answer_child_request(for_parent, approve, school.now)
    assert answer.approved() is approve
    back = child.poll_guardian_answer(hand_over)
    assert back is not None and back.approved() is approve
    return review, back


def register_says(school, subject):
    query = urllib.parse.urlencode({"subject": subject, "purpose": "newsletter", "object": school.photo_hash})
    status, answer = school.staff_get(f"{school.consents_path}/may-use?{query}")
    assert status == 200, answer
    return answer


def log_types(export_json):
    return [entry["event"]["type"] for entry in json.loads(export_json)]


def test_photo_consent_with_a_python_secure_element(school, wallets):
    child, child_keys, parent, parent_keys = family_wallets(school, wallets, SANNE)
    # Every holder key was made in the secure element (P-256): one per copy.
    assert child_keys.key_count() == 3 and parent_keys.key_count() == 3
    assert [c.unused_copies for c in child.credentials()] == [3]
    assert child.is_child() and not parent.is_child()
    assert child.age_band(school.now) == ffi.AgeBand.FROM12_TO15

    # The desk's QR code, read into the prompt the app shows.
    session = school.session()
    prompt = child.handle_request(session["uri"], school.now)
    assert prompt.verifier_name == school.desk_name
    assert prompt.verifier_did == school.desk_did
    assert prompt.verifier_client_id == f"decentralized_identifier:{school.desk_did}"
    assert prompt.purpose.code == "newsletter"
    assert prompt.purpose.text_nl == "Foto's in de nieuwsbrief"
    assert prompt.purpose.text_en == "Photos in the newsletter"
    assert prompt.purpose_source == ffi.PurposeSource.REQUEST
    assert prompt.retention_days == 365
    assert prompt.who_decides == ffi.WhoDecides.CHILD_AND_PARENT, "a guardian decides for a 12-year-old"
    assert prompt.age_band == ffi.AgeBand.FROM12_TO15
    assert prompt.answerable
    assert not prompt.has_special_category and prompt.over_asking == []
    [item] = prompt.items
    assert item.query_id == "enrolment"
    assert item.legal_basis == ffi.LegalBasis.CONSENT
    labels = {claim.path: (claim.label_nl, claim.label_en) for claim in item.claims}
    assert labels["given_name"] == ("Voornaam", "Given name")
    assert labels["group"] == ("Groep of klas", "Group or class")
    assert labels["age_over_16"] == ("Ouder dan 16", "Older than 16")
    assert not any(claim.special_category or claim.over_asked for claim in item.claims)
    assert len(item.candidates) == 1 and item.candidates[0].unused_copies == 3
    assert any(school.photo_hash in data for data in prompt.transaction_data)
    assert "Foto's in de nieuwsbrief" in prompt.text_nl and "Photos in the newsletter" in prompt.text_en

    # The child says yes: her presentation is made (its key-binding JWT signed in her secure
    # element) and, as she is under 16, held as a request for the parent.
    signed_by_child = child_keys.signatures
    outcome = child.decide(prompt.request_id, ffi.Decision.APPROVE_ALL(), school.now)
    assert outcome.is_AWAIT_GUARDIAN()
    assert outcome.request.request_id() == prompt.request_id
    assert child_keys.signatures > signed_by_child, "the KB-JWT was signed in the child's secure element"

    # The hand-over both ways; the parent's phone checks the request itself and approves.
    review, answer = hand_over_and_answer(school, child, parent, outcome.request, approve=True)
    assert review.verifier_name == school.desk_name
    assert review.purpose.code == "newsletter" and review.purpose.text_en == "Photos in the newsletter"
    assert review.retention_days == 365
    assert review.child_id
    [reviewed] = review.items
    disclosed = {claim.path: claim.label_en for claim in reviewed.disclosed}
    assert disclosed["given_name"] == "Given name"
    assert parent_keys.signatures > 0, "the guardian approval was signed in the parent's secure element"

    # The child's wallet completes: her presentation with the parent's approval.
    response = child.complete_with_guardian(answer, school.now)
    assert response.discloses()
    child.post_response(response)

    desk = school.outcome(session["id"])
    assert desk["outcome"] == "accepted", desk
    assert desk["guardian_approval"] is True
    assert desk["consent"]
    subject = desk["subject"]
    yes = register_says(school, subject)
    assert yes["answer"] == "yes", yes

    # A replayed answer is the verifier's refusal, typed, with its code.
    with pytest.raises(ffi.WalletError.VerifierRefused) as replay:
        child.post_response(response)
    assert replay.value.code and "replay" in replay.value.message

    # The consent, in the parent's wallet; withdrawn from there, signed in its secure element.
    [consent] = [c for c in parent.consents() if c.active]
    assert consent.verifier == prompt.verifier_client_id
    assert consent.verifier_name == school.desk_name
    assert consent.purpose.code == "newsletter"
    signed_by_parent = parent_keys.signatures
    withdrawal = parent.withdraw(consent.id, school.now + 60)
    assert withdrawal.verifier() == prompt.verifier_client_id
    assert parent_keys.signatures > signed_by_parent, "the withdrawal was signed in the secure element"
    [after] = [c for c in parent.consents() if c.id == consent.id]
    assert not after.active and after.withdrawn_at is not None
    no = register_says(school, subject)
    assert (no["answer"], no["reason"]) == ("no", "withdrawn"), no
    with pytest.raises(ffi.WalletError.Consent) as again:
        parent.withdraw(consent.id, school.now + 120)
    assert "withdrawn" in again.value.message

    # What was shared, with whom, when and why: the logs, hash-chained, exported.
    child_log = log_types(child.export_log())
    assert child_log[0] == "credential_received"
    assert "request_received" in child_log and "disclosure" in child_log
    assert len(child.log()) == len(child_log)
    parent_log = log_types(parent.export_log())
    assert "withdrawal" in parent_log
    status, export = school.staff_get(f"{school.consents_path}/subjects/{urllib.parse.quote(subject, safe='')}")
    assert status == 200
    [kept] = export["consents"]
    assert isinstance(kept["withdrawn"], dict), "the desk keeps the withdrawal as evidence"


def test_a_parent_who_refuses_sends_the_desk_a_refusal(school, wallets):
    child, _, parent, _ = family_wallets(school, wallets, DAAN)
    session = school.session()
    prompt = child.handle_request(session["uri"], school.now)
    assert prompt.who_decides == ffi.WhoDecides.CHILD_AND_PARENT
    outcome = child.decide(prompt.request_id, ffi.Decision.APPROVE_ALL(), school.now)
    assert outcome.is_AWAIT_GUARDIAN()
    _, answer = hand_over_and_answer(school, child, parent, outcome.request, approve=False)
    refusal = child.complete_with_guardian(answer, school.now)
    assert not refusal.discloses()
    child.post_response(refusal)
    desk = school.outcome(session["id"])
    assert desk["outcome"] == "declined", desk
    assert desk["error"] == "access_denied"
    assert [c for c in parent.consents() if c.active] == []


def test_a_wrong_pin_is_the_issuers_invalid_grant(school, wallets):
    letters = school.family("Noor", "pupil-0601", "2013-05-20")
    keys = SecureElement("noor")
    child, _, _ = wallets.make(ffi.WalletRole.CHILD(birth_date="2013-05-20"), keys)
    wrong = "000000" if letters["child_pin"] != "000000" else "111111"
    with pytest.raises(ffi.WalletError.IssuerRefused) as refused:
        child.receive_offer(letters["child_offer"], wrong, 3, school.now)
    assert refused.value.code == "invalid_grant"
    assert "PIN" in refused.value.message or "pin" in refused.value.message
    assert wrong not in refused.value.message, "the message does not repeat the PIN"
    assert child.credentials() == []
    # The right PIN still works afterwards (one wrong attempt does not lock the offer).
    got = child.receive_offer(letters["child_offer"], letters["child_pin"], 1, school.now)
    assert [r.copies for r in got] == [1]


def test_another_platform_key_does_not_open_the_wallet(school, wallets):
    keys = SecureElement("lock")
    _, path, platform_key = wallets.make(ffi.WalletRole.PARENT(), keys)
    other = bytes(b ^ 0xFF for b in platform_key)
    with pytest.raises(ffi.WalletError.WrongPassphrase) as refused:
        ffi.Wallet.open(path, ffi.WalletUnlock.PLATFORM_KEY(key=other), school.config(), keys, school.now)
    assert refused.value.message
    with pytest.raises(ffi.WalletError.InvalidInput) as short:
        ffi.Wallet.open(path, ffi.WalletUnlock.PLATFORM_KEY(key=b"short"), school.config(), keys, school.now)
    assert "32 bytes" in short.value.message
    reopened = ffi.Wallet.open(path, ffi.WalletUnlock.PLATFORM_KEY(key=platform_key), school.config(), keys, school.now)
    assert not reopened.is_child()


def test_a_cancelled_signature_is_a_signer_error_and_the_request_stays_open(school, wallets):
    letters = school.family("Lotte", "pupil-0702", "2014-11-03")
    keys = SecureElement("lotte")
    child, _, _ = wallets.make(ffi.WalletRole.CHILD(birth_date="2014-11-03"), keys)
    child.receive_offer(letters["child_offer"], letters["child_pin"], 2, school.now)
    session = school.session()
    prompt = child.handle_request(session["uri"], school.now)
    keys.mode = "cancel"
    with pytest.raises(ffi.WalletError.Signer) as cancelled:
        child.decide(prompt.request_id, ffi.Decision.APPROVE_ALL(), school.now)
    assert "cancelled" in cancelled.value.message
    keys.mode = "der"
    with pytest.raises(ffi.WalletError.Signer) as der:
        child.decide(prompt.request_id, ffi.Decision.APPROVE_ALL(), school.now)
    assert "64 bytes" in der.value.message, der.value.message
    assert school.outcome(session["id"])["outcome"] == "pending", "nothing reached the desk"
    # The person tries again and the secure element signs: the request was not used up.
    keys.mode = "ok"
    outcome = child.decide(prompt.request_id, ffi.Decision.APPROVE_ALL(), school.now)
    assert outcome.is_AWAIT_GUARDIAN()


def test_a_wallet_opened_without_its_secure_element_cannot_present(school, wallets):
    letters = school.family("Sem", "pupil-0803", "2010-04-04")
    keys = SecureElement("sem")
    child, path, platform_key = wallets.make(ffi.WalletRole.CHILD(birth_date="2010-04-04"), keys)
    child.receive_offer(letters["child_offer"], letters["child_pin"], 1, school.now)
    del child
    reopened = ffi.Wallet.open(path, ffi.WalletUnlock.PLATFORM_KEY(key=platform_key), school.config(), None, school.now)
    session = school.session()
    prompt = reopened.handle_request(session["uri"], school.now)
    assert prompt.who_decides == ffi.WhoDecides.HOLDER, "16 or over decides alone"
    with pytest.raises(ffi.WalletError.Signer) as refused:
        reopened.decide(prompt.request_id, ffi.Decision.APPROVE_ALL(), school.now)
    assert "key store" in refused.value.message
