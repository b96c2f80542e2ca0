"""``greenroom owner set-password`` and ``greenroom token create|list|revoke``."""

from __future__ import annotations

import sys

import typer

from greenroom.config import get_settings
from greenroom.db.engine import Database
from greenroom.db.migrate import upgrade
from greenroom.db.types import utcnow
from greenroom.errors import GreenroomError
from greenroom.web import auth

owner_app = typer.Typer(help="The owner account.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for the JSON API.", no_args_is_help=True)


def _database() -> Database:
    """The configured database, migrated first so these commands work on a brand-new install."""
    database = Database(get_settings().sqlalchemy_url)
    upgrade(database.engine)
    return database


def _fail(exc: GreenroomError) -> None:
    typer.echo(f"error: {exc.message}", err=True)
    raise typer.Exit(1)


@owner_app.command("set-password")
def set_password(
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set (or change) the owner's password. Signs out every browser."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt="Repeat it")
    database = _database()
    try:
        with database.write() as db:
            auth.set_owner_password(db, password, now=utcnow())
    except GreenroomError as exc:
        _fail(exc)
    finally:
        database.dispose()
    typer.echo("Owner password set. Sign in at /login.")


@token_app.command("create")
def create(name: str = typer.Option(..., "--name", help="What the token is for, e.g. 'home-assistant'.")) -> None:
    """Create a token and print it once; only its hash is kept."""
    database = _database()
    try:
        with database.write() as db:
            raw = auth.create_api_token(db, name, now=utcnow())
    except GreenroomError as exc:
        _fail(exc)
    finally:
        database.dispose()
    typer.echo(raw)
    typer.echo("Shown once: store it now. Send it as 'Authorization: Bearer <token>'.", err=True)


@token_app.command("list")
def list_tokens() -> None:
    """List token names with when they were created and last used."""
    database = _database()
    try:
        with database.read() as db:
            tokens = auth.list_api_tokens(db)
    finally:
        database.dispose()
    if not tokens:
        typer.echo("No tokens. Create one with: greenroom token create --name NAME")
        return
    for token in tokens:
        used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
        typer.echo(f"{token.name}\tcreated {token.created_at.isoformat(timespec='seconds')}\tlast used {used}")


@token_app.command("revoke")
def revoke(name: str = typer.Argument(..., help="The token's name.")) -> None:
    """Revoke a token at once."""
    database = _database()
    try:
        with database.write() as db:
            auth.revoke_api_token(db, name)
    except GreenroomError as exc:
        _fail(exc)
    finally:
        database.dispose()
    typer.echo(f"Revoked {name}.")


def register(app: typer.Typer) -> None:
    app.add_typer(owner_app, name="owner")
    app.add_typer(token_app, name="token")
