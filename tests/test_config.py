"""Settings: defaults, the CYBERPEACE_ environment prefix, and the refusal to serve insecurely."""

from __future__ import annotations

from pathlib import Path

import pytest

from cyberpeace.config import DEFAULT_SECRET, InsecureSettingsError, Settings

ENV = ("DATA_DIR", "DATABASE_URL", "BIND", "SECRET_KEY", "MANDATE")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CYBERPEACE_ variable (or .env file) of the machine running the tests leaks in."""
    for name in ENV:
        monkeypatch.delenv(f"CYBERPEACE_{name}", raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.data_dir == Path("./cyberpeace-data")
    assert settings.bind == "127.0.0.1:8000"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.secret_key == DEFAULT_SECRET
    assert settings.mandate is None
    expected = (tmp_path / "cyberpeace-data" / "cyberpeace.db").resolve()
    assert settings.database_url == f"sqlite:///{expected}"
    assert settings.is_loopback()
    settings.check_safe_to_serve()


def test_database_follows_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "elsewhere")
    assert settings.database_url == f"sqlite:///{(tmp_path / 'elsewhere' / 'cyberpeace.db')}"
    assert Path(settings.database_url.removeprefix("sqlite:///")).is_absolute()


def test_an_explicit_database_url_is_kept(tmp_path: Path) -> None:
    url = "postgresql+psycopg://cp@db.example/cyberpeace"
    assert Settings(data_dir=tmp_path, database_url=url).database_url == url


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CYBERPEACE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CYBERPEACE_BIND", "0.0.0.0:9000")
    monkeypatch.setenv("CYBERPEACE_SECRET_KEY", "s3cret-from-env")
    monkeypatch.setenv("CYBERPEACE_MANDATE", str(tmp_path / "mandate.yaml"))
    settings = Settings()
    assert settings.data_dir == tmp_path / "var"
    assert settings.database_url == f"sqlite:///{(tmp_path / 'var' / 'cyberpeace.db')}"
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert settings.secret_key == "s3cret-from-env"
    assert settings.mandate == tmp_path / "mandate.yaml"


def test_environment_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CYBERPEACE_DATABASE_URL", "sqlite:////srv/cp.db")
    assert Settings().database_url == "sqlite:////srv/cp.db"


def test_unprefixed_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIND", "0.0.0.0:1")
    monkeypatch.setenv("SECRET_KEY", "not-mine")
    settings = Settings()
    assert settings.bind == "127.0.0.1:8000"
    assert settings.secret_key == DEFAULT_SECRET


@pytest.mark.parametrize(
    "bind",
    [
        "0.0.0.0:8000",
        "198.51.100.7:8000",
        "[::]:8000",
        "[2001:db8::1]:443",
        "cyberpeace.example:80",
    ],
)
def test_refuses_to_serve_beyond_loopback_with_the_default_secret(bind: str) -> None:
    settings = Settings(bind=bind)
    assert not settings.is_loopback()
    with pytest.raises(InsecureSettingsError, match="secret key is the default") as refused:
        settings.check_safe_to_serve()
    assert bind in str(refused.value)
    assert "CYBERPEACE_SECRET_KEY" in str(refused.value)


@pytest.mark.parametrize(
    ("bind", "host"),
    [
        ("127.0.0.1:8000", "127.0.0.1"),
        ("127.0.0.53:8000", "127.0.0.53"),
        ("[::1]:8000", "::1"),
        ("localhost:8000", "localhost"),
        (":8000", "127.0.0.1"),
    ],
)
def test_loopback_may_keep_the_default_secret(bind: str, host: str) -> None:
    settings = Settings(bind=bind)
    assert settings.host == host
    assert settings.port == 8000
    assert settings.is_loopback()
    settings.check_safe_to_serve()


@pytest.mark.parametrize("bind", ["0.0.0.0:8000", "198.51.100.7:8000", "[::]:8000"])
def test_any_address_with_a_real_secret(bind: str) -> None:
    Settings(bind=bind, secret_key="a-long-random-value-from-the-vault").check_safe_to_serve()


def test_insecure_settings_error_is_a_value_error() -> None:
    assert issubclass(InsecureSettingsError, ValueError)
