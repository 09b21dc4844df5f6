"""The simulator's import folder over a real process: files are applied, deleted and logged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fallback.xmlfiles import validate_file
from tests.support.processes import wait_until
from tests.support.simulator import RunningSimulator, SimHttp

pytestmark = pytest.mark.integration

CONTACTS_XML = """<?xml version="1.0" encoding="utf-8"?>
<contacts xmlns="http://eClub.Schemas.ImportContact">
  <new source="POS" storeExternalId="600">
    <member contactType="Member">
      <email>imported@example.com</email><firstName>Ina</firstName><memberNumber>M-9</memberNumber>
    </member>
  </new>
  <new><member contactType="Member"><firstName>NoKey</firstName></member></new>
  <new><member contactType="Member"><email>existing@example.com</email><city>Lund</city></member></new>
</contacts>
"""

EVIDENCED_SKELETON = """<?xml version="1.0" encoding="utf-8"?>
<contacts xmlns="http://eClub.Schemas.ImportContact">
  <new source="ECOM">
    <member>
      <firstName>Example</firstName>
      <email>example@example.com</email>
    </member>
  </new>
</contacts>
"""
"""The reference's skeleton (ref 4.2), from a third-party test of the format and Voyado's export."""

RECEIPT = """<receipt>
    <contact><matchKey>{key}</matchKey><matchKeyType>memberNumber</matchKeyType></contact>
    <uniqueReceiptId>{rid}</uniqueReceiptId><createdDate>2026-11-24T10:15:00+01:00</createdDate>
    <storeExternalId>600</storeExternalId><currency>SEK</currency><totalGrossPrice>100.00</totalGrossPrice>
    <paymentMethods><paymentMethod><type>card</type><value>100.00</value></paymentMethod></paymentMethods>
    <items><item><type>PURCHASE</type><sku>S1</sku><quantity>1</quantity><grossPaidPrice>100.00</grossPaidPrice>
      <taxAmount>20.00</taxAmount><taxPercent>25.00</taxPercent><articleNumber>A1</articleNumber>
      <articleName>Scarf</articleName></item></items>
  </receipt>"""


def transactions_xml(*receipts: tuple[str, str]) -> str:
    body = "".join(RECEIPT.format(key=key, rid=rid) for key, rid in receipts)
    return f'<?xml version="1.0" encoding="utf-8"?>\n<transactions xmlns="http://voyado.Schemas.ImportReceipts">{body}</transactions>\n'


def drop(folder: Path, name: str, text: str) -> Path:
    """Write under a temporary name, then rename, as an uploader does."""
    temp = folder / f".{name}.part"
    temp.write_text(text, encoding="utf-8")
    final = folder / name
    temp.rename(final)
    return final


def wait_for_imports(simulator: RunningSimulator, count: int) -> list[dict[str, Any]]:
    wait_until(lambda: len(simulator.admin.state()["imports"]) >= count, timeout_s=5, what="import")
    imports: list[dict[str, Any]] = simulator.admin.state()["imports"]
    return imports


def test_contacts_then_transactions_files_are_applied_and_deleted(
    simulator: RunningSimulator, sim_http: SimHttp
) -> None:
    # Given an existing contact, and a contacts file creating one, skipping one and updating one
    existing = sim_http.post("/api/v3/contacts", json={"email": "existing@example.com"}).json()
    contacts_file = drop(simulator.import_dir, "20261124101500_1_contacts.xml", CONTACTS_XML)
    [entry] = wait_for_imports(simulator, 1)
    # Then the file is gone and logged with its per-record outcome
    assert not contacts_file.exists()
    assert (entry["file"], entry["kind"], entry["records"], entry["applied"], entry["skipped"]) == (
        "20261124101500_1_contacts.xml",
        "contacts",
        3,
        2,
        1,
    )
    assert [e["index"] for e in entry["errors"]] == [1]
    created = sim_http.get("/api/v3/contacts/id", params={"email": "imported@example.com"})
    assert created.status_code == 200
    contact = sim_http.get(f"/api/v3/contacts/{created.json()}").json()
    assert contact["meta"]["source"] == "POS"
    assert sim_http.get(f"/api/v3/contacts/{existing['id']}").json()["attributes"]["city"] == "Lund"
    # When a transactions file names that member, an unknown member, and a repeated receipt
    drop(
        simulator.import_dir,
        "20261124101600_1_transactions.xml",
        transactions_xml(("M-9", "T-1"), ("NOPE", "T-2"), ("M-9", "T-1")),
    )
    entries = wait_for_imports(simulator, 2)
    # Then only the first receipt is stored, for the imported contact
    assert (entries[1]["records"], entries[1]["applied"], entries[1]["skipped"]) == (3, 1, 2)
    receipts = simulator.admin.state()["receipts"]
    assert [(r["uniqueReceiptId"], r["contactId"], r["via"]) for r in receipts] == [
        ("T-1", created.json(), "import")
    ]


def test_the_evidenced_skeleton_is_valid_and_imported(
    simulator: RunningSimulator, sim_http: SimHttp, tmp_path: Path
) -> None:
    # Given the structure the reference's evidence shows, which our XSD admits
    assert (
        validate_file(drop(tmp_path, "20261124101500_1_contacts.xml", EVIDENCED_SKELETON), "contacts") == []
    )
    # When it lands in the folder the relay uploads contacts to
    folder = simulator.import_dir / "contactImport"
    folder.mkdir()
    drop(folder, "20261124101500_1_contacts.xml", EVIDENCED_SKELETON)
    # Then the simulator imports the member with the <new>'s source
    [entry] = wait_for_imports(simulator, 1)
    assert (entry["applied"], entry["errors"]) == (1, [])
    contact_id = sim_http.get("/api/v3/contacts/id", params={"email": "example@example.com"}).json()
    contact = sim_http.get(f"/api/v3/contacts/{contact_id}").json()
    assert (contact["attributes"]["firstName"], contact["meta"]["source"]) == ("Example", "ECOM")


def test_a_broken_file_is_skipped_whole_and_temp_names_are_left(simulator: RunningSimulator) -> None:
    temp = simulator.import_dir / "20261124101700_1_contacts.xml.part"
    temp.write_text("<contacts", encoding="utf-8")
    broken = drop(simulator.import_dir, "20261124101700_2_contacts.xml", "<contacts><not-closed>")
    [entry] = wait_for_imports(simulator, 1)
    assert not broken.exists()
    assert entry["applied"] == 0
    assert entry["errors"][0]["errorCode"] == "FileError"
    assert temp.exists()
    assert simulator.admin.state()["contacts"] == []
