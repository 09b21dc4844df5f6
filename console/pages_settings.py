"""The settings panel per client, "Test connection", and adding a tenant (operators)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from console.settings_form import (
    CONTACT_KEYS,
    CONTACTS_VIA,
    TRANSPORTS,
    VOUCHER_MODES,
    SettingsInvalid,
    form_values,
    tenant_from_form,
)
from console.web import PREFIX, PageError, Pages, Viewer
from engage.ratelimit import DEFAULT_LIVE_SHARE
from relay.connection_check import CheckResult
from relay.file_check import FileCheck
from relay.tenant_store import TenantStoreError
from relay.tenants import Tenant

CHECK_WORDS = {
    "bad_key": "Engage refused the API key. It is wrong, was rotated, or belongs to another Engage tenant: "
    "enter the current key above, save, and test again.",
    "unreachable": "Engage could not be reached at this base URL. Check the address (https://<tenant>.voyado.com).",
    "timeout": "Engage did not answer in time. Check the base URL; if it is right, Engage may be slow now.",
    "tls": "The secure connection failed: the certificate is not trusted, or the address is not Engage.",
    "wrong_url": "This address answers, but it is not an Engage tenant. It should be https://<tenant>.voyado.com.",
}


def check_words(result: CheckResult) -> str:
    """The verdict of "Test connection" in plain words for the page (the CLI's sentence otherwise)."""
    if result.ok:
        return f"Connection works: {result.message}."
    return CHECK_WORDS.get(result.verdict, result.message[:1].upper() + result.message[1:] + ".")


def files_words(result: FileCheck) -> str:
    words = result.message[:1].upper() + result.message[1:] + "."
    if result.verdict == "no_file_server":
        return words
    return f"File server works: {words}" if result.ok else f"File server problem: {words}"


def add_routes(router: APIRouter, pages: Pages) -> None:  # noqa: PLR0915 - one closure per page
    s = pages.s

    def editable(tenant: str) -> bool:
        return s.tenant_store is not None and tenant in s.tenant_store

    def stored_or_served(viewer: Viewer, name: str) -> Tenant:
        pages.tenant(viewer, name)  # 404 unless this viewer may see it
        if editable(name) and s.tenant_store is not None:
            return s.tenant_store.get(name)  # the saved settings, before any process has reloaded them
        return s.tenants().get(name)

    def show(
        request: Request,
        viewer: Viewer,
        tenant: Tenant | None,
        *,
        values: dict[str, str] | None = None,
        problems: list[str] | None = None,
        notice: str | None = None,
        check: CheckResult | None = None,
        files: FileCheck | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        name = tenant.name if tenant else ""
        changed = s.tenant_store.secrets_changed(name) if tenant and editable(name) and s.tenant_store else {}
        return pages.render(
            request,
            "settings.html",
            viewer,
            status_code=status_code,
            tenant=tenant,
            new=tenant is None,
            editable=tenant is None or editable(name),
            values=values if values is not None else (form_values(tenant) if tenant else {}),
            secrets={
                "api_key": tenant is not None,
                "fallback_password": bool(tenant and tenant.fallback.password),
                "fallback_key_passphrase": bool(tenant and tenant.fallback.private_key_passphrase),
                "soft_id_key": bool(tenant and tenant.soft_id_key),
            },
            changed=changed,
            problems=problems or [],
            notice=notice,
            check=check,
            check_text=check_words(check) if check else None,
            files=files,
            files_text=files_words(files) if files else None,
            choices={
                "contact_key": CONTACT_KEYS,
                "transport": TRANSPORTS,
                "contacts_via": CONTACTS_VIA,
                "vouchers_as": VOUCHER_MODES,
            },
            read_only_reason=None if s.tenant_store is not None else "ENGAGE_RELAY_SECRET_KEY is not set",
        )

    @router.get("/t/{name}/settings", response_class=HTMLResponse)
    def settings(request: Request, name: str, saved: int = 0) -> HTMLResponse:
        viewer = pages.viewer(request)
        tenant = stored_or_served(viewer, name)
        notice = (
            "Settings saved. Every worker, ingest and API process uses them within seconds."
            if saved
            else None
        )
        return show(request, viewer, tenant, notice=notice)

    @router.post("/t/{name}/settings", response_model=None)
    async def save(request: Request, name: str) -> Response:
        viewer = pages.viewer(request)
        form = await pages.form(request, viewer)
        existing = stored_or_served(viewer, name)
        if not editable(name) or s.tenant_store is None:
            raise PageError(
                409,
                "Settings are read-only here",
                f"Tenant {name} is configured in the tenants file or the environment: change it there.",
            )
        try:
            tenant = tenant_from_form(form, existing, name=name)
        except SettingsInvalid as bad:
            return show(request, viewer, existing, values=dict(form), problems=bad.problems, status_code=422)
        s.tenant_store.put(tenant, replace=True)
        pages.tenants_changed()
        pages.audit(viewer, "settings_saved", tenant=name, detail=_what_changed(existing, tenant))
        return RedirectResponse(f"{PREFIX}/t/{name}/settings?saved=1", status_code=303)

    @router.post("/t/{name}/test", response_class=HTMLResponse)
    async def test(request: Request, name: str) -> HTMLResponse:
        viewer = pages.viewer(request)
        await pages.form(request, viewer)
        tenant = stored_or_served(viewer, name)
        result = s.test_connection(tenant)
        files = s.test_file_server(tenant.fallback)
        pages.audit(viewer, "connection_tested", tenant=name, detail=f"{result.verdict}, {files.verdict}")
        return show(request, viewer, tenant, check=result, files=files)

    @router.get("/tenants/new", response_class=HTMLResponse)
    def new_form(request: Request) -> HTMLResponse:
        viewer = _operator(pages, request)
        return show(
            request,
            viewer,
            None,
            values={"transport": "none", "rate_budget_per_s": "40", "live_share": f"{DEFAULT_LIVE_SHARE:g}"},
        )

    @router.post("/tenants/new", response_model=None)
    async def add(request: Request) -> Response:
        viewer = _operator(pages, request)
        form = await pages.form(request, viewer)
        if s.tenant_store is None:
            raise PageError(409, "Tenants cannot be added here", "ENGAGE_RELAY_SECRET_KEY is not set.")
        problems: list[str] = []
        try:
            tenant = tenant_from_form(form, None)
            if tenant.name in s.tenants() and tenant.name not in s.tenant_store:
                problems.append(
                    f"Tenant name: {tenant.name} is configured elsewhere already; pick another name"
                )
            else:
                s.tenant_store.put(tenant, replace=False)
                pages.tenants_changed()
        except SettingsInvalid as bad:
            problems = bad.problems
        except TenantStoreError:
            problems = [f"Tenant name: a tenant {form.get('name', '').strip()} exists already"]
        if problems:
            return show(request, viewer, None, values=dict(form), problems=problems, status_code=422)
        pages.audit(viewer, "tenant_added", tenant=tenant.name)
        return RedirectResponse(f"{PREFIX}/t/{tenant.name}/settings?saved=1", status_code=303)


def _operator(pages: Pages, request: Request) -> Viewer:
    viewer = pages.viewer(request)
    if not viewer.user.is_operator:
        raise PageError(
            404, "Not found", "This page does not exist, or it belongs to a tenant you cannot see."
        )
    return viewer


def _what_changed(before: Tenant, after: Tenant) -> str:
    """The names of the settings that changed (never their values: some are secrets)."""
    names: list[str] = []
    if before.base_url != after.base_url:
        names.append("base URL")
    if before.api_key.get_secret_value() != after.api_key.get_secret_value():
        names.append("API key")
    if before.rate_budget_per_s != after.rate_budget_per_s:
        names.append("rate budget")
    if before.live_share != after.live_share:
        names.append("live share")
    old_p, new_p = before.policy.model_dump(), after.policy.model_dump()
    names += [k.replace("_", " ") for k in new_p if old_p.get(k) != new_p[k]]
    old_f = before.fallback.model_dump(exclude={"password", "private_key_passphrase"})
    new_f = after.fallback.model_dump(exclude={"password", "private_key_passphrase"})
    names += [f"file {k.replace('_', ' ')}" for k in new_f if old_f.get(k) != new_f[k]]
    if before.fallback.password != after.fallback.password:
        names.append("file password")
    if before.fallback.private_key_passphrase != after.fallback.private_key_passphrase:
        names.append("key passphrase")
    if before.soft_id_key != after.soft_id_key:
        names.append("soft identification key")
    return ", ".join(names) or "nothing changed"
