"""The `shipflow` command: database, demo data, API keys, shops and the server."""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING

import click

from shipflow.config import ConfigError, Settings, load_settings
from shipflow.instance import use_instance_credentials_key, with_instance_secrets

if TYPE_CHECKING:
    from shipflow.runtime import Runtime


def _settings(ctx: click.Context, demo: bool = False, signs: bool = False) -> Settings:
    """The configuration, with the secrets it leaves unset from instance/ (generated there
    for the `demo`). A command that `signs` (links, sessions) stops without a secret key."""
    try:
        settings = with_instance_secrets(load_settings(ctx.obj.get("config")), generate=demo)
        use_instance_credentials_key(generate=demo)
        if signs:
            settings.require_secret()
        return settings
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


def _runtime(ctx: click.Context, signs: bool = False) -> Runtime:
    from shipflow.runtime import Runtime

    return Runtime.from_settings(_settings(ctx, signs=signs))


@click.group()
@click.option("--config", "config", type=click.Path(dir_okay=False), help="config.yaml to use")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """shipflow: shipping and post-purchase orchestration."""
    ctx.ensure_object(dict)["config"] = config


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply every migration (creates the database on first run)."""
    from shipflow.store.migrate import upgrade

    settings = _settings(ctx)
    upgrade(settings.database_url)
    click.echo("database is up to date")


@db.command("revision")
@click.option("-m", "--message", required=True)
@click.pass_context
def db_revision(ctx: click.Context, message: str) -> None:
    """Autogenerate a migration from the models (developers)."""
    from shipflow.store.migrate import revision

    revision(_settings(ctx).database_url, message)


@main.group()
def demo() -> None:
    """The demo brand."""


@demo.command("load")
@click.pass_context
def demo_load(ctx: click.Context) -> None:
    """Write the brands, warehouses, carrier and channel accounts of config.yaml to the database."""
    from shipflow.brands import sync_brands
    from shipflow.store.db import unit_of_work

    runtime = _runtime(ctx)
    with unit_of_work(runtime.sessions) as session:
        brands = sync_brands(session, runtime.settings)
        names = ", ".join(b.code for b in brands)
    click.echo(f"loaded brands: {names}")


@main.group("api-key")
def api_key() -> None:
    """Brand API keys."""


@api_key.command("create")
@click.option("--brand", "brand_code", required=True, help="brand code from config.yaml")
@click.option("--name", default="", help="a label to recognise the key by")
@click.pass_context
def api_key_create(ctx: click.Context, brand_code: str, name: str) -> None:
    """Create a key and print it once; only its hash is stored."""
    from shipflow.api_keys import create_api_key
    from shipflow.store.db import unit_of_work

    runtime = _runtime(ctx)
    with unit_of_work(runtime.sessions) as session:
        key = create_api_key(session, _brand_or_exit(session, brand_code).id, name)
    click.echo(key)


@api_key.command("list")
@click.option("--brand", "brand_code", required=True, help="brand code from config.yaml")
@click.pass_context
def api_key_list(ctx: click.Context, brand_code: str) -> None:
    """The brand's keys, newest first: id, prefix, label, created, revoked (never the key)."""
    from shipflow.api_keys import brand_keys

    runtime = _runtime(ctx)
    with runtime.sessions() as session:
        for key in brand_keys(session, _brand_or_exit(session, brand_code).id):
            revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            click.echo(
                f"{key.id}  {key.prefix}...  {key.name or '-'}  "
                f"created {key.created_at:%Y-%m-%d %H:%M}  {revoked}"
            )


@api_key.command("revoke")
@click.argument("key_id")
@click.pass_context
def api_key_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke a key by its id (from `api-key list`): refused from the next request on."""
    from shipflow.api_keys import revoke_api_key
    from shipflow.store.db import unit_of_work

    runtime = _runtime(ctx)
    with unit_of_work(runtime.sessions) as session:
        key = revoke_api_key(session, key_id, runtime.clock.now())
    if key is None:
        click.echo(f"error: no API key {key_id!r}; `shipflow api-key list` shows them", err=True)
        sys.exit(2)
    click.echo(f"revoked {key_id}")


def _brand_or_exit(session, brand_code: str):
    """The brand's row; without one, the command stops saying how to load it."""
    from shipflow.brands import brand_by_code

    brand = brand_by_code(session, brand_code)
    if brand is None:
        click.echo(
            f"error: no brand {brand_code!r} in the database; run `shipflow demo load` "
            "or check the code in config.yaml",
            err=True,
        )
        sys.exit(2)
    return brand


@main.group()
def channel() -> None:
    """A brand's shops (sales channels)."""


def _credential(_ctx, _param, values: tuple[str, ...]) -> dict[str, str]:
    pairs = [value.partition("=") for value in values]
    bad = [key for key, sep, _ in pairs if not sep or not key]
    if bad:
        raise click.BadParameter("write each as NAME=VALUE, e.g. --credential access_token=...")
    return {key: value for key, _, value in pairs}


@channel.command("connect")
@click.argument("brand_code")
@click.argument("channel_name", metavar="CHANNEL")
@click.argument("shop")
@click.option(
    "--credential",
    "credentials",
    multiple=True,
    callback=_credential,
    help="NAME=VALUE, repeatable; stored encrypted (SHIPFLOW_CREDENTIALS_KEY)",
)
@click.option("--code", default=None, help="the account's code (default: from the shop)")
@click.pass_context
def channel_connect(
    ctx: click.Context,
    brand_code: str,
    channel_name: str,
    shop: str,
    credentials: dict[str, str],
    code: str | None,
) -> None:
    """Connect BRAND_CODE's SHOP on CHANNEL (again: new credentials, enabled); prints the
    account id and the webhook URL."""
    from channels.base import ChannelError
    from shipflow.channel_accounts import (
        CodeTaken,
        ShopTaken,
        connect_account,
        subscribe,
        webhook_address,
    )
    from shipflow.secrets_at_rest import SecretsKeyError
    from shipflow.store.db import unit_of_work
    from shipflow.store.models import ChannelAccount

    runtime = _runtime(ctx)
    try:
        with unit_of_work(runtime.sessions) as session:
            row = connect_account(
                session,
                runtime,
                _brand_or_exit(session, brand_code).id,
                channel=channel_name,
                shop=shop,
                credentials=credentials,
                code=code,
            )
            click.echo(f"{row.id}  {row.code}  {webhook_address(runtime.settings, row)}")
            account_id = row.id
    except (ShopTaken, CodeTaken, SecretsKeyError, KeyError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    with runtime.sessions() as session:
        try:
            ids = subscribe(session, runtime, session.get_one(ChannelAccount, account_id))
        except ChannelError as exc:
            click.echo(f"warning: webhooks not subscribed: {exc}", err=True)
            return
    if ids:
        click.echo(f"webhooks subscribed: {', '.join(ids)}")


@channel.command("list")
@click.argument("brand_code")
@click.pass_context
def channel_list(ctx: click.Context, brand_code: str) -> None:
    """The brand's shops: id, code, channel, shop, enabled or not (never credentials)."""
    from shipflow.channel_accounts import brand_accounts

    runtime = _runtime(ctx)
    with runtime.sessions() as session:
        for row in brand_accounts(session, _brand_or_exit(session, brand_code).id):
            state = "enabled" if row.enabled else "disabled"
            click.echo(f"{row.id}  {row.code}  {row.channel}  {row.shop}  {state}")


@channel.command("disconnect")
@click.argument("brand_code")
@click.argument("account_id")
@click.pass_context
def channel_disconnect(ctx: click.Context, brand_code: str, account_id: str) -> None:
    """Stop taking the shop's webhooks and syncing it; its orders stay."""
    from shipflow.channel_accounts import disable_account
    from shipflow.store.db import unit_of_work
    from shipflow.store.models import ChannelAccount

    runtime = _runtime(ctx)
    with unit_of_work(runtime.sessions) as session:
        brand_id = _brand_or_exit(session, brand_code).id
        row = session.get(ChannelAccount, account_id)
        if row is None or row.brand_id != brand_id:
            click.echo(
                f"error: brand {brand_code!r} has no channel account {account_id!r}", err=True
            )
            sys.exit(2)
        disable_account(session, account_id)
    click.echo(f"disconnected {account_id}")


@channel.command("new-key")
def channel_new_key() -> None:
    """Print a new key for SHIPFLOW_CREDENTIALS_KEY (put it first to rotate, keep the old
    ones after it until `rotate-keys` has run)."""
    from shipflow.secrets_at_rest import new_key

    click.echo(new_key())


@channel.command("rotate-keys")
@click.pass_context
def channel_rotate_keys(ctx: click.Context) -> None:
    """Re-encrypt every stored shop credential under the first key of SHIPFLOW_CREDENTIALS_KEY."""
    from sqlalchemy import select

    from shipflow.secrets_at_rest import SecretsKeyError, reseal
    from shipflow.store.db import unit_of_work
    from shipflow.store.models import ChannelAccount

    runtime = _runtime(ctx)
    try:
        with unit_of_work(runtime.sessions) as session:
            rows = session.scalars(
                select(ChannelAccount).where(ChannelAccount.credentials.is_not(None))
            )
            count = 0
            for row in rows:
                assert row.credentials is not None
                row.credentials, count = reseal(row.credentials), count + 1
    except SecretsKeyError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"re-encrypted the credentials of {count} account(s)")


@main.group("ops-user")
def ops_user() -> None:
    """Logins for the ops pages (one per person and brand)."""


def _set_password(ctx: click.Context, brand_code: str, email: str, change, refused, label: str):
    """Run `change(session, brand_id, email)` and print the password it returns, once."""
    from shipflow.store.db import unit_of_work

    runtime = _runtime(ctx)
    try:
        with unit_of_work(runtime.sessions) as session:
            password = change(session, _brand_or_exit(session, brand_code).id, email)
    except refused as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"{label} for {email.strip().lower()} (shown once): {password}")


@ops_user.command("create")
@click.option("--brand", "brand_code", required=True, help="brand code from config.yaml")
@click.option("--email", required=True)
@click.pass_context
def ops_user_create(ctx: click.Context, brand_code: str, email: str) -> None:
    """Create the login and print its generated password once; only a hash is stored."""
    from shipflow.ops_users import OpsUserExists, create_ops_user

    _set_password(ctx, brand_code, email, create_ops_user, OpsUserExists, "password")


@ops_user.command("reset-password")
@click.option("--brand", "brand_code", required=True, help="brand code from config.yaml")
@click.option("--email", required=True)
@click.pass_context
def ops_user_reset_password(ctx: click.Context, brand_code: str, email: str) -> None:
    """Give the login a new generated password (printed once) and sign it out everywhere."""
    from shipflow.ops_users import UnknownOpsUser, reset_password

    _set_password(ctx, brand_code, email, reset_password, UnknownOpsUser, "new password")


@main.group()
def alerts() -> None:
    """Delay detection and ops alerts."""


@alerts.command("scan")
@click.option("--brand", "brand_code", required=True, help="brand code from config.yaml")
@click.pass_context
def alerts_scan(ctx: click.Context, brand_code: str) -> None:
    """Sweep the brand's active shipments now, queue and send the ops notifications."""
    from shipflow.delays.jobs import alert_cycle

    runtime = _runtime(ctx)
    with runtime.sessions() as session:
        brand_id = _brand_or_exit(session, brand_code).id
    report = alert_cycle(runtime, [brand_id])
    result = report.scans[brand_id]
    click.echo(
        f"{result.candidates} candidates, {result.alerts_raised} alerts raised, "
        f"{len(result.incidents)} lane incidents, {result.grouped} grouped; "
        f"{report.queued} notifications queued, {report.sent} sent"
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--demo", "demo_mode", is_flag=True, help="run the simulated demo traffic too")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, demo_mode: bool) -> None:
    """Serve the web app (and, with the embedded default, the background jobs)."""
    from shipflow.server import serve as run_server

    settings = _settings(ctx, demo=demo_mode, signs=True)
    run_server(settings, host=host, port=port, demo=demo_mode)


def _brand_code(ctx: click.Context, code: str | None) -> str:
    """The brand asked for, or the only one configured."""
    settings = _settings(ctx)
    if code:
        return code
    if len(settings.brands) > 1:
        click.echo("error: several brands are configured; pass --brand CODE", err=True)
        sys.exit(2)
    return settings.brands[0].code


@main.group()
def history() -> None:
    """Delivered-order history the delivery-date model learns from."""


@history.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--brand", "brand_code", help="brand code (default: the only brand)")
@click.option("--zone", default="UTC", show_default=True, help="time zone of naive times")
@click.pass_context
def history_import(ctx: click.Context, file, brand_code: str | None, zone: str) -> None:
    """Import a history CSV; bad rows are reported (line, column, problem) and skipped."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from shipflow.edd.history import read_history
    from shipflow.edd.repository import add_history
    from shipflow.store.db import unit_of_work

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        click.echo(f"error: --zone {zone!r} is not an IANA time zone like UTC", err=True)
        sys.exit(2)
    code = _brand_code(ctx, brand_code)
    records, errors = read_history(file, zone)
    for error in errors:
        click.echo(f"{file.name}: {error}", err=True)
    runtime = _runtime(ctx)
    with unit_of_work(runtime.sessions) as session:
        added, known = add_history(session, _brand_or_exit(session, code).id, records, "import")
    click.echo(f"imported {added} records ({known} already known, {len(errors)} rows rejected)")


@main.group()
def edd() -> None:
    """Delivery-date estimation."""


@edd.command("train")
@click.option("--brand", "brand_code", help="brand code (default: the only brand)")
@click.pass_context
def edd_train(ctx: click.Context, brand_code: str | None) -> None:
    """Train the transit model on the stored history and store it for quoting."""
    from shipflow.edd.retrain import train_brand
    from shipflow.store.db import unit_of_work

    code = _brand_code(ctx, brand_code)
    runtime = _runtime(ctx)
    with unit_of_work(runtime.sessions) as session:
        trained = train_brand(
            session, _brand_or_exit(session, code), runtime.clock.now(), runtime.settings
        )
    click.echo(
        f"stored model {trained.model_id}: {trained.delivered} deliveries of "
        f"{trained.records} records, calibrated on {trained.calibration_samples} orders"
    )


@main.command("tracking-link")
@click.argument("shipment_id")
@click.pass_context
def tracking_link_command(ctx: click.Context, shipment_id: str) -> None:
    """Print the signed customer tracking link of a shipment (as e-mails carry it)."""
    from shipflow.shipment_links import tracking_link
    from shipflow.store.models import Brand, Shipment

    runtime = _runtime(ctx, signs=True)
    with runtime.sessions() as session:
        shipment = session.get(Shipment, shipment_id)
        if shipment is None:
            click.echo(f"error: no shipment {shipment_id!r}", err=True)
            sys.exit(2)
        brand_code = session.get_one(Brand, shipment.brand_id).code
    click.echo(tracking_link(brand_code, shipment_id, runtime))


@main.group()
def labels() -> None:
    """Label purchases whose outcome is unknown (a crash or an unanswered carrier call)."""


@labels.command("reconcile")
@click.option("--older-than", default=10, show_default=True, help="Minutes pending.")
@click.pass_context
def labels_reconcile(ctx: click.Context, older_than: int) -> None:
    """List purchases still pending: check each with the carrier (void any label it sold),
    then release it so the order or return can be labelled again."""
    from datetime import timedelta

    from shipflow import label_purchases
    from shipflow.store.models import Brand

    runtime = _runtime(ctx)
    with runtime.sessions() as session:
        rows = label_purchases.stale(session, runtime.clock.now(), timedelta(minutes=older_than))
        for row in rows:
            brand = session.get_one(Brand, row.brand_id)
            click.echo(
                f"{row.id}  brand={brand.code}  order={row.order_id}  "
                f"return={row.return_id or '-'}  account={row.carrier_account}  "
                f"key={row.idempotency_key}  since={row.created_at.isoformat()}  "
                f"{row.error or 'no answer recorded (crash?)'}"
            )
    click.echo(f"{len(rows)} label purchase(s) pending for over {older_than} minutes")
    ctx.exit(1 if rows else 0)


@main.group()
def retention() -> None:
    """Archive and delete what is past keeping (config.yaml `retention:`)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
@click.pass_context
def retention_run(ctx: click.Context, dry_run: bool) -> None:
    from shipflow.retention import prune

    runtime = _runtime(ctx)
    counts = prune(runtime, dry_run=dry_run)
    verb = "would archive and delete" if dry_run else "archived and deleted"
    for table, count in counts.items():
        click.echo(f"{table}: {verb} {count} row(s)")


@labels.command("release")
@click.argument("purchase_id")
@click.option("--note", required=True, help="What the carrier said (kept with the purchase).")
@click.pass_context
def labels_release(ctx: click.Context, purchase_id: str, note: str) -> None:
    """Mark a pending purchase as not bought (after checking with the carrier)."""
    from shipflow import label_purchases
    from shipflow.store.db import unit_of_work

    runtime = _runtime(ctx)
    try:
        with unit_of_work(runtime.sessions) as session:
            label_purchases.release(session, purchase_id, note, runtime.clock.now())
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"released {purchase_id}")


@main.group()
def webhooks() -> None:
    """Carrier webhooks as received."""


@webhooks.command("retry")
@click.option("--failed", "failed", is_flag=True, required=True, help="retry every failed one")
@click.option("--brand", "brand_code", default=None, help="only this brand's")
@click.pass_context
def webhooks_retry(ctx: click.Context, failed: bool, brand_code: str | None) -> None:
    """Queue failed webhooks again (after a parser or configuration fix)."""
    from shipflow.store.db import unit_of_work
    from shipflow.tracking.webhooks import retry_failed

    runtime = _runtime(ctx)
    with unit_of_work(runtime.sessions) as session:
        brand_id = _brand_or_exit(session, brand_code).id if brand_code else None
        count = retry_failed(session, runtime.clock.now(), brand_id)
    click.echo(f"queued {count} failed webhook(s) again")


@main.group()
def jobs() -> None:
    """Background jobs without Celery."""


@jobs.command("run")
@click.option("--once", is_flag=True, help="run every periodic job until idle, then exit")
@click.pass_context
def jobs_run(ctx: click.Context, once: bool) -> None:
    """Run the periodic jobs in this process (poll, webhooks, outbox, ...)."""
    import signal
    import threading

    from shipflow.jobs.inprocess import InProcessRunner

    runner = InProcessRunner(_runtime(ctx, signs=True))
    if once:
        click.echo(f"done: {runner.drain()} item(s)")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    runner.start()
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    runner.stop()


def _celery(ctx: click.Context, argv: list[str]) -> None:
    from shipflow.jobs.celery_app import configure

    configure(_settings(ctx, signs=True)).start(argv)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def worker(ctx: click.Context) -> None:
    """A Celery worker process with `celery_app.THREADS` threads (extra arguments go to
    Celery and win, e.g. --concurrency 8, or --pool prefork)."""
    from shipflow.jobs.celery_app import THREADS

    pool = ["--pool", "threads", "--concurrency", str(THREADS)]
    _celery(ctx, ["worker", "--loglevel", "INFO", *pool, *ctx.args])


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def beat(ctx: click.Context) -> None:
    """Celery beat: schedules the periodic jobs for the workers (run exactly one)."""
    _celery(ctx, ["beat", "--loglevel", "INFO", *ctx.args])
