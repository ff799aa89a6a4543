"""Company sign-in (`st.login()`, OpenID Connect) in a real browser against a provider on loopback: the
email the provider vouches for is mapped to a user's role; an email no user has is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from db.session import make_engine, session_scope
from services import auth
from services.permissions import Actor, Role
from tests.e2e.conftest import Console, serve, wait_idle
from tests.e2e.oidc_provider import CLIENT_ID, Provider, running_provider

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def sso_console(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[Console]:
    with serve(tmp_path_factory.mktemp("e2e-sso"), live=False, more_secrets=provider.secrets) as running:
        engine = make_engine(running.database_url)
        try:
            with session_scope(engine) as session:
                auth.create_user(
                    session,
                    username="erin",
                    password="a long enough password",
                    role=Role.LEAD,
                    email="Erin@Example.com",
                    actor=Actor("system", Role.ADMIN, os_user="e2e"),
                    now=datetime.now(UTC),
                )
        finally:
            engine.dispose()
        yield running


@contextmanager
def _company_sign_in(browser: Any, console: Console) -> Iterator[Any]:
    """A new browser's tab, its "Sign in with your company account" clicked; closed on leaving."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        tab.goto(console.base_url)
        wait_idle(tab)
        tab.get_by_role("button", name="Sign in with your company account").click()
        yield tab
    finally:
        context.close()


def test_company_sign_in_maps_the_providers_email_to_a_role(
    browser: Any, sso_console: Console, provider: Provider
) -> None:
    provider.email = "erin@example.com"
    with _company_sign_in(browser, sso_console) as tab:
        tab.get_by_role("heading", name="Order lookup").wait_for()
        tab.get_by_text(re.compile("lead")).first.wait_for()
    [asked] = provider.authorize_requests[-1:]
    assert asked["client_id"] == CLIENT_ID and asked["response_type"] == "code" and asked["nonce"]
    assert asked["redirect_uri"] == f"{sso_console.base_url}/oauth2callback"


def test_company_sign_in_refuses_an_email_no_user_has(
    browser: Any, sso_console: Console, provider: Provider
) -> None:
    provider.email = "nobody@example.com"
    with _company_sign_in(browser, sso_console) as tab:
        tab.get_by_text(re.compile("nobody@example.com has no role in order-recon")).wait_for()
        assert not tab.get_by_role("heading", name="Order lookup").is_visible()
