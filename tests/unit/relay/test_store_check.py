"""Which stores a tenant names, and the sentence when Engage lacks some (relay.store_check)."""

from __future__ import annotations

from engage.models import Store
from mappers.policy import TenantPolicy
from relay.store_check import compare_stores, named_stores


def store(external_id: str, *, active: bool | None = None) -> Store:
    return Store.model_validate({"externalId": external_id, "active": active})


def test_the_default_store_and_each_mapped_store_are_named_once() -> None:
    policy = TenantPolicy(default_store="web", store_map={"web": "Ecom-SE", "no": "Ecom-NO", "se": "Ecom-SE"})
    # the default store code goes through the map too
    assert named_stores(policy) == {"Ecom-SE": "the default store", "Ecom-NO": "store map no=Ecom-NO"}


def test_every_missing_store_is_named_with_where_the_tenant_names_it() -> None:
    named = named_stores(TenantPolicy(default_store="online", store_map={"dk": "Ecom-DK", "old": "closed"}))
    verdict = compare_stores(named, [store("Ecom-NO"), store("closed", active=False)])
    assert not verdict.ok and verdict.verdict == "stores_missing"
    assert verdict.missing == ("online", "Ecom-DK") and verdict.inactive == ("closed",)
    assert verdict.message == (
        "Engage has no store online (the default store), Ecom-DK (store map dk=Ecom-DK): receipts, contacts "
        "and orders naming it are refused; create it in Engage or correct the tenant's default store and "
        "store map; and closed (store map old=closed) is inactive in Engage"
    )


def test_stores_that_all_exist_pass_and_an_engage_listing_none_is_not_checked() -> None:
    named = named_stores(TenantPolicy(default_store="online"))
    assert compare_stores(named, [store("online", active=True)]).message == (
        "every store the tenant names is in Engage (1)"
    )
    unlisted = compare_stores(named, [])
    assert unlisted.ok and unlisted.verdict == "stores_unlisted"
