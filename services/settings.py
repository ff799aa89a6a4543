"""All configuration in one place: environment variables first, then `.streamlit/secrets.toml`."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from checks.policy import SlaPolicy, load_policy
from db.session import default_database_url
from services.errors import ConfigurationError, PolicyError

DEFAULT_POLICY_PATH = Path(__file__).with_name("sla_default.toml")
SECRETS_PATH = Path(".streamlit/secrets.toml")


class _SecretsSource(PydanticBaseSettingsSource):
    """Top-level keys of `.streamlit/secrets.toml` (the file Streamlit itself reads)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path.is_file():
            with path.open("rb") as handle:
                raw = tomllib.load(handle)
            self._data = {k.lower(): v for k, v in raw.items() if not isinstance(v, dict)}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    order_recon_config: Path | None = None  # SLA policy TOML; the packaged default when unset

    shopify_shop_url: str | None = None
    shopify_access_token: str | None = None
    shipbob_api_url: str | None = None
    shipbob_token: str | None = None
    shipbob_channel_id: int | None = None  # orders are created on it; unset: the channel with orders_write
    easypost_api_url: str | None = None
    easypost_api_key: str | None = None
    # Webhook signing secrets (`order-recon webhooks serve`): Shopify's app client secret, ShipBob's
    # `whsec_…` subscription secret, the EasyPost webhook's `webhook_secret`.
    shopify_webhook_secret: str | None = None
    shipbob_webhook_secret: str | None = None
    easypost_webhook_secret: str | None = None
    # Where "Open in Shopify" / "Open in ShipBob" go (services.links): the shop's admin (default: the
    # shop URL) and the ShipBob web app's order page, with `{id}` for the ShipBob order id.
    shopify_admin_url: str | None = None
    shipbob_app_url: str | None = None

    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str | None = None
    openai_timeout_s: float = 20.0

    demo_mode: bool = False
    cookie_key: str | None = None
    audit_key: str | None = None  # HMAC key of the audit chain (services.audit_key); never in the database
    cookie_expiry_days: float = 0.5  # a working day at most
    session_idle_minutes: float = 30.0  # a session unused this long ends (services.auth.sessions)
    # The header a reverse proxy puts the client's address in (e.g. X-Forwarded-For); unset: the socket's.
    trusted_proxy_header: str | None = None
    source_timeout_s: float = 10.0

    # Alerts and the leadership report (SPEC §9). The webhook URL and the SMTP password are secrets:
    # they come from here only (environment or secrets.toml), never from the database.
    slack_webhook_url: str | None = None
    smtp_url: str | None = None  # smtp://user:pass@host:587 (STARTTLS when offered) or smtps://…:465
    alert_email_to: str | None = None  # comma-separated; the settings page may name others
    alert_email_from: str | None = None
    console_url: str = "http://localhost:8501"  # where the digests' lookup links point
    alert_timeout_s: float = 10.0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _SecretsSource(settings_cls, SECRETS_PATH))

    def policy(self) -> SlaPolicy:
        try:
            return load_policy(self.order_recon_config or DEFAULT_POLICY_PATH)
        except PolicyError:
            raise
        except ValueError as exc:  # checks.policy.PolicyError: re-raise in the product's tree
            raise PolicyError(str(exc)) from exc

    def source_configured(self, source: str) -> bool:
        url, secret = self.source_credentials(source, required=False)
        return bool(url and secret)

    def source_credentials(self, source: str, *, required: bool = True) -> tuple[str | None, str | None]:
        """(base URL, secret) for 'shopify' | 'shipbob' | 'easypost'; a missing one names its setting."""
        names = {
            "shopify": ("SHOPIFY_SHOP_URL", "SHOPIFY_ACCESS_TOKEN"),
            "shipbob": ("SHIPBOB_API_URL", "SHIPBOB_TOKEN"),
            "easypost": ("EASYPOST_API_URL", "EASYPOST_API_KEY"),
        }[source]
        values = tuple(getattr(self, n.lower()) for n in names)
        if required:
            for name, value in zip(names, values, strict=True):
                if not value:
                    raise ConfigurationError(f"{name} is not set: {source} cannot be reached.", setting=name)
        return values[0], values[1]

    def webhook_secrets(self) -> dict[str, str]:
        """{source: signing secret} for the webhook receiver; a missing one names its setting."""
        secrets = {}
        for source in ("shopify", "shipbob", "easypost"):
            name = f"{source.upper()}_WEBHOOK_SECRET"
            value = getattr(self, name.lower())
            if not value:
                raise ConfigurationError(
                    f"{name} is not set: the webhook receiver cannot verify {source}'s deliveries.",
                    setting=name,
                )
            secrets[source] = value
        return secrets


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
