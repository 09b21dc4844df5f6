"""HTTP handlers for the contact endpoints: lookup, create, get, patch, updateContactType, overview."""

from __future__ import annotations

from aiohttp import web

from simulator import contacts
from simulator.bodies import json_string, query_flag, read_json
from simulator.context import state_of
from simulator.errors import ApiError
from simulator.loyalty import promotions_for, vouchers_for

routes = web.RouteTableDef()


@routes.get("/api/v3/contacts/id")
async def lookup(request: web.Request) -> web.Response:
    return json_string(contacts.lookup(state_of(request), dict(request.query)))


@routes.post("/api/v3/contacts")
async def create(request: web.Request) -> web.Response:
    body = await read_json(request)
    contact = contacts.create_contact(
        state_of(request),
        body,
        source=request.query.get("source"),
        store_external_id=request.query.get("storeExternalId"),
        unapproved=query_flag(request, "createAsUnapproved"),
    )
    return web.json_response(contact.to_json(), status=201)


@routes.get("/api/v3/contacts/{contactId}")
async def get(request: web.Request) -> web.Response:
    contact = contacts.get_contact(state_of(request), request.match_info["contactId"])
    return web.json_response(contact.to_json())


@routes.patch("/api/v3/contacts/{contactId}")
async def patch(request: web.Request) -> web.Response:
    state = state_of(request)
    contact = contacts.get_contact(state, request.match_info["contactId"])
    body = await read_json(request)
    return web.json_response(contacts.patch_contact(state, contact, body).to_json())


@routes.post("/api/v3/contacts/{contactId}/updateContactType")
async def update_contact_type(request: web.Request) -> web.Response:
    state = state_of(request)
    contact = contacts.get_contact(state, request.match_info["contactId"])
    updated = contacts.update_contact_type(state, contact, request.query.get("contactTypeId"))
    return web.json_response(updated.to_json())


@routes.get("/api/v3/contactoverview")
async def overview(request: web.Request) -> web.Response:
    state = state_of(request)
    query = dict(request.query)
    if "contactId" in query:
        contact = contacts.get_contact(state, query["contactId"])
    else:
        if "contactType" not in query:
            raise ApiError(400, "InvalidContactType", "contactType is required without contactId")
        contact = state.contacts[contacts.lookup(state, query)]
    body = contact.to_json()
    del body["meta"]
    body["promotions"] = promotions_for(state, contact.id)
    body["rewardVouchers"] = vouchers_for(state, contact.id)
    return web.json_response(body)
