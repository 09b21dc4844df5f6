"""The simulator's contact endpoints over real HTTP: auth, content type, lookup, create, patch, retype."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.simulator import RunningSimulator, SimHttp

pytestmark = pytest.mark.integration


def create(http: SimHttp, body: dict[str, Any], **query: str) -> dict[str, Any]:
    response = http.post("/api/v3/contacts", json=body, params=query)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_missing_or_unknown_api_key_is_401(simulator: RunningSimulator) -> None:
    # Given no key, then a wrong key
    for key in (None, "wrong-key"):
        http = SimHttp(simulator.base_url, key)
        # When looking a contact up
        response = http.get("/api/v3/contacts/id", params={"email": "a@example.com"})
        # Then 401 Unauthorized
        assert response.status_code == 401
        assert response.json()["errorCode"] == "Unauthorized"
        http.close()


def test_x_api_key_header_is_accepted(simulator: RunningSimulator) -> None:
    http = SimHttp(simulator.base_url, None)
    response = http.get(
        "/api/v3/contacts/id", params={"email": "a@example.com"}, headers={"x-api-key": simulator.api_key}
    )
    assert response.status_code == 404
    http.close()


def test_body_without_json_content_type_is_500(sim_http: SimHttp) -> None:
    # When a body is sent as form data
    response = sim_http.post(
        "/api/v3/contacts",
        data="email=a@example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    # Then Engage's documented 500
    assert response.status_code == 500
    assert response.json() == {"message": "An error has occurred"}


def test_user_agent_and_route_template_are_recorded(simulator: RunningSimulator, sim_http: SimHttp) -> None:
    contact = create(sim_http, {"email": "ua@example.com"})
    sim_http.get(f"/api/v3/contacts/{contact['id']}")
    state = simulator.admin.state()
    assert state["user_agents"][SimHttp.USER_AGENT] == 2
    assert state["requests"]["GET /api/v3/contacts/{contactId}"] == {"200": 1}
    assert state["requests"]["POST /api/v3/contacts"] == {"201": 1}


def test_create_reads_query_parameters_not_headers(sim_http: SimHttp) -> None:
    # Given source and store both as query and (ignored) headers
    response = sim_http.post(
        "/api/v3/contacts",
        json={"email": "q@example.com", "firstName": "Q"},
        params={"source": "ECOM", "storeExternalId": "600", "createAsUnapproved": "true"},
        headers={"source": "POS", "storeExternalId": "999"},
    )
    # Then the contact carries the query values, type Member by default
    assert response.status_code == 201
    body = response.json()
    assert body["contactType"] == "Member"
    assert body["meta"]["source"] == "ECOM"
    assert body["meta"]["storeExternalId"] == "600"
    assert body["meta"]["approved"] is False
    assert body["attributes"] == {"email": "q@example.com", "firstName": "Q"}
    # And headers alone do not set them
    other = sim_http.post(
        "/api/v3/contacts", json={"email": "h@example.com"}, headers={"source": "POS"}
    ).json()
    assert other["meta"]["source"] is None


def test_create_existing_key_is_409_and_missing_mandatory_is_422(sim_http: SimHttp) -> None:
    create(sim_http, {"email": "dup@example.com"})
    response = sim_http.post("/api/v3/contacts", json={"email": "DUP@example.com"})
    assert response.status_code == 409
    assert response.json()["errorCode"] == "ApprovedContactWithKeyExists"
    missing = sim_http.post("/api/v3/contacts", json={"firstName": "NoEmail", "mobilePhone": "0701"})
    assert missing.status_code == 422
    body = missing.json()
    assert body["errorCode"] == "ValidationError"
    fields = {e["field"] for e in body["messageDetails"]["errors"]}
    assert fields == {"email", "mobilePhone"}
    assert (
        sim_http.post("/api/v3/contacts", json={"email": "x@y.z", "contactType": "Nope"}).json()["errorCode"]
        == "InvalidContactType"
    )
    assert sim_http.post("/api/v3/contacts", json={}).json()["errorCode"] == "NoData"


def test_lookup_returns_a_json_string_guid(sim_http: SimHttp) -> None:
    contact = create(sim_http, {"email": "look@example.com", "mobilePhone": "+46701234567"})
    response = sim_http.get("/api/v3/contacts/id", params={"email": "look@example.com"})
    assert response.status_code == 200
    assert response.text == f'"{contact["id"]}"'
    assert sim_http.get("/api/v3/contacts/id", params={"mobilePhone": "+46701234567"}).json() == contact["id"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"email": "not-an-email"}, 400, "InvalidEmailAddress"),
        ({"mobilePhone": "0701234567"}, 400, "InvalidPhoneNumber"),
        ({"socialSecurityNumber": "19901301-1234"}, 400, "InvalidSocialSecurityNumber"),
        ({"email": "a@b.se", "contactType": "Nope"}, 400, "InvalidContactType"),
        ({}, 400, "InvalidSearchQuery"),
        ({"memberNumber": "1"}, 400, "InvalidSearchQuery"),
        ({"email": "nobody@example.com"}, 404, "ContactNotFound"),
    ],
)
def test_lookup_errors(sim_http: SimHttp, params: dict[str, str], status: int, code: str) -> None:
    response = sim_http.get("/api/v3/contacts/id", params=params)
    assert response.status_code == status
    assert response.json()["errorCode"] == code


def test_lookup_multiple_matches_lists_the_candidates(sim_http: SimHttp) -> None:
    # Given two contacts sharing a mobile phone (not the key)
    a = create(sim_http, {"email": "a@example.com", "mobilePhone": "+46700000001"})
    b = create(sim_http, {"email": "b@example.com", "mobilePhone": "+46700000001"})
    # When looking up by that phone
    response = sim_http.get("/api/v3/contacts/id", params={"mobilePhone": "+46700000001"})
    # Then 409 with both ids
    assert response.status_code == 409
    body = response.json()
    assert body["errorCode"] == "MultipleMatches"
    assert sorted(body["messageDetails"]["multipleMatchesFound"]) == sorted([a["id"], b["id"]])


def test_any_uses_precedence_and_stops_at_first_valid_kind(sim_http: SimHttp) -> None:
    # Given a contact whose member number also looks like a Swedish SSN
    contact = create(
        sim_http, {"email": "m@example.com", "memberNumber": "199001011234", "externalId": "EXT-7"}
    )
    # When any= gets the email, or an external id that is no email/SSN/phone
    assert sim_http.get("/api/v3/contacts/id", params={"any": "m@example.com"}).json() == contact["id"]
    assert sim_http.get("/api/v3/contacts/id", params={"any": "EXT-7"}).json() == contact["id"]
    # Then customKey finds the member number directly
    assert sim_http.get("/api/v3/contacts/id", params={"customKey": "199001011234"}).json() == contact["id"]
    # But any= stops at socialSecurityNumber for it, and finds nothing
    response = sim_http.get("/api/v3/contacts/id", params={"any": "199001011234"})
    assert response.status_code == 404
    assert response.json()["errorCode"] == "ContactNotFound"


def test_patch_overwrites_with_empty_values_and_ignores_unknown_attributes(sim_http: SimHttp) -> None:
    contact = create(
        sim_http, {"email": "p@example.com", "firstName": "Pat", "city": "Malmö", "lastName": "X"}
    )
    response = sim_http.patch(
        f"/api/v3/contacts/{contact['id']}",
        json={"firstName": "", "city": None, "shoeSize": 44, "contactType": "Contact"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["attributes"] == {"email": "p@example.com", "firstName": "", "city": None, "lastName": "X"}
    assert body["contactType"] == "Member"
    assert sim_http.get(f"/api/v3/contacts/{contact['id']}").json()["attributes"]["city"] is None


def test_patch_and_get_unknown_contact(sim_http: SimHttp) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert (
        sim_http.patch(f"/api/v3/contacts/{missing}", json={"firstName": "x"}).json()["errorCode"]
        == "ContactNotFound"
    )
    assert sim_http.get("/api/v3/contacts/not-a-guid").json()["errorCode"] == "InvalidContactId"


def test_update_contact_type_requires_the_target_mandatory_fields(
    simulator: RunningSimulator, sim_http: SimHttp
) -> None:
    # Given a Member type that also needs firstName, and a Contact without one
    simulator.admin.seed({"contact_types": {"Member": {"key": "email", "mandatory": ["email", "firstName"]}}})
    contact = create(sim_http, {"email": "c@example.com", "contactType": "Contact"})
    path = f"/api/v3/contacts/{contact['id']}/updateContactType"
    # When promoting to Member without firstName
    refused = sim_http.post(path, params={"contactTypeId": "Member"})
    # Then 422 naming the field
    assert refused.status_code == 422
    assert refused.json()["messageDetails"]["errors"] == [{"field": "firstName", "message": "is mandatory"}]
    # And once firstName is set the promotion works
    sim_http.patch(f"/api/v3/contacts/{contact['id']}", json={"firstName": "C"})
    done = sim_http.post(path, params={"contactTypeId": "Member"})
    assert done.status_code == 200
    assert done.json()["contactType"] == "Member"
    assert sim_http.post(path, params={"contactTypeId": "Nope"}).json()["errorCode"] == "InvalidContactType"


def test_contact_overview_includes_loyalty(sim_http: SimHttp) -> None:
    contact = create(sim_http, {"email": "o@example.com"})
    by_id = sim_http.get("/api/v3/contactoverview", params={"contactId": contact["id"]})
    assert by_id.status_code == 200
    assert by_id.json()["promotions"] == []
    by_key = sim_http.get(
        "/api/v3/contactoverview", params={"contactType": "Member", "email": "o@example.com"}
    )
    assert by_key.json()["id"] == contact["id"]
    assert sim_http.get("/api/v3/contactoverview", params={"email": "o@example.com"}).status_code == 400
