"""`wuji-cli`: the Wuji Cloud API from the shell, for people (tables) and scripts (JSON, exit codes).

    wuji-cli configure                        # endpoint, key id, secret -> ~/.config/wuji/credentials
    wuji-cli servers list
    wuji-cli servers reboot 42 --hard
    wuji-cli balance --output json
    wuji-cli call servers_reinstall_create id=42 image=debian-12
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from . import config, output, schema
from .client import Client
from .errors import (
    ApiError,
    AuthenticationFailed,
    Conflict,
    ConnectionFailed,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unprocessable,
    UsageError,
)
from .schema import Operation

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_CONFLICT = 5
EXIT_RATE_LIMITED = 6
EXIT_UNAVAILABLE = 7

EXIT_CODES_HELP = """\
exit codes:
  0  success
  1  the API refused the request (a 4xx not listed below, e.g. 400 invalid input, 402 insufficient balance)
  2  usage error (bad arguments, unknown operation or parameter, no credentials configured)
  3  authentication or permission refused (401, 403)
  4  not found (404; also someone else's object)
  5  conflict with the object's state (409, 422)
  6  rate limited (429, still after the retries)
  7  server error or network failure (5xx, connection refused, timeout; after the retries)

environment: WUJI_CONFIG_DIR (default ~/.config/wuji), WUJI_PROFILE, and WUJI_ENDPOINT, WUJI_KEY_ID, WUJI_SECRET,
WUJI_LANGUAGE to override the profile's values."""

COLUMNS = {
    "servers": ["id", "name", "region", "plan", "image", "vm_state", "task_state", "power_state", "public_ip"],
    "transactions": ["id", "created_at", "kind", "amount_yuan", "memo"],
    "orders": ["id", "created_at", "region", "plan", "image", "cycle", "amount_yuan", "server"],
    "topups": ["out_trade_no", "created_at", "channel", "amount_yuan", "status"],
    "operations": ["operation_id", "method", "path", "summary"],
}


def exit_code(error: ApiError) -> int:
    """The exit code for an API failure: the contract scripts rely on (see EXIT_CODES_HELP)."""
    for kinds, code in (((AuthenticationFailed, PermissionDenied), EXIT_AUTH), ((NotFound,), EXIT_NOT_FOUND),
                        ((Conflict, Unprocessable), EXIT_CONFLICT), ((RateLimited,), EXIT_RATE_LIMITED),
                        ((ServerError, ConnectionFailed), EXIT_UNAVAILABLE)):
        if isinstance(error, kinds):
            return code
    return EXIT_REFUSED


# --- Arguments -------------------------------------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    """Options accepted before or after the command (`wuji-cli -o json servers list` = `… servers list -o json`)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", default=argparse.SUPPRESS, help="credentials profile (default: WUJI_PROFILE "
                                                                     "or 'default')")
    common.add_argument("--output", "-o", choices=["table", "json"], default=argparse.SUPPRESS,
                        help="table for people (default), json (the API's JSON) for scripts")
    common.add_argument("--timeout", type=float, default=argparse.SUPPRESS, help="seconds per attempt (30)")
    common.add_argument("--retries", type=int, default=argparse.SUPPRESS,
                        help="retries after network errors, 5xx and 429 (3)")
    common.add_argument("--language", default=argparse.SUPPRESS, help="language of messages: zh-hans or en")
    return common


def _server_id(actions, name: str, help_text: str) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, parents=[_common()], help=help_text)
    parser.add_argument("id", type=int, help="server id")
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wuji-cli", parents=[_common()], epilog=EXIT_CODES_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Wuji Cloud (武极云) API from the command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    configure = commands.add_parser("configure", parents=[_common()], help="store a profile (asks what is missing)")
    configure.add_argument("--endpoint", help="API origin, e.g. https://api.wuji.example")
    configure.add_argument("--key-id", help="the access key id (AK…)")
    configure.add_argument("--secret", help="the access key secret (asked without echo when omitted)")

    servers = commands.add_parser("servers", parents=[_common()], help="list and operate servers")
    actions = servers.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", parents=[_common()], help="your servers")
    _server_id(actions, "show", "one server")
    _server_id(actions, "start", "power on (开机)")
    _server_id(actions, "stop", "shut down (关机)")
    _server_id(actions, "reboot", "restart (重启)").add_argument(
        "--hard", action="store_true", help="power-cycle instead of asking the guest (强制重启)")
    reinstall = _server_id(actions, "reinstall", "reinstall the OS (重装系统): the disk is wiped")
    reinstall.add_argument("--image", required=True, help="image code, e.g. debian-12")
    reinstall.add_argument("--ssh-key-file", type=Path, help="an OpenSSH public key file installed for root")
    reinstall.add_argument("--no-root-password", action="store_true",
                           help="do not generate a root password (needs --ssh-key-file)")

    commands.add_parser("balance", parents=[_common()], help="your balances (余额)")
    for name, help_text in (("transactions", "ledger transactions (收支明细)"), ("orders", "orders (订单)"),
                            ("topups", "top-ups (充值)")):
        listing = commands.add_parser(name, parents=[_common()], help=help_text)
        listing.add_subparsers(dest="action", required=True, metavar="ACTION").add_parser(
            "list", parents=[_common()], help=f"list {name}")

    call = commands.add_parser("call", parents=[_common()], help="call any operation of the API schema",
                               description="PARAM is name=value (converted by the schema's type) or name:=JSON.")
    call.add_argument("operation_id", help="see `wuji-cli operations`")
    call.add_argument("params", nargs="*", metavar="PARAM")
    call.add_argument("--all", action="store_true", help="list operations: follow every page")
    commands.add_parser("operations", parents=[_common()], help="the operations `call` accepts")
    return parser


# --- Commands --------------------------------------------------------------------------------------------


def _client(args) -> Client:
    profile = config.load(getattr(args, "profile", None))
    if not profile.complete:
        raise UsageError(f"profile {profile.name!r} is not configured: run `wuji-cli configure"
                         f"{'' if profile.name == config.DEFAULT_PROFILE else ' --profile ' + profile.name}`")
    return Client(profile.endpoint, profile.key_id, profile.secret, timeout=getattr(args, "timeout", 30.0),
                  retries=getattr(args, "retries", 3), language=getattr(args, "language", None) or profile.language
                  or None)


def _ask(label: str, current: str, *, secret: bool = False) -> str:
    shown = f" [{current[:4]}…]" if secret and current else f" [{current}]" if current else ""
    if secret and sys.stdin.isatty():
        answer = getpass.getpass(f"{label}{shown}: ")
    else:
        print(f"{label}{shown}: ", end="", file=sys.stderr, flush=True)
        answer = sys.stdin.readline().strip()
    return answer.strip() or current


def configure(args):
    stored = config.load(getattr(args, "profile", None), environment=False)
    profile = config.Profile(
        name=stored.name,
        endpoint=args.endpoint or _ask("Endpoint (e.g. https://api.wuji.example)", stored.endpoint),
        key_id=args.key_id or _ask("Access key id", stored.key_id),
        secret=args.secret or _ask("Access key secret", stored.secret, secret=True),
        language=getattr(args, "language", None) or stored.language,
    )
    if not profile.complete:
        raise UsageError("endpoint, key id and secret are all needed")
    Client(profile.endpoint, profile.key_id, profile.secret)  # refuses a malformed endpoint before saving
    path = config.save(profile)
    print(f"profile {profile.name!r} saved to {path}", file=sys.stderr)
    return None, None


def servers(args):
    client = _client(args)
    if args.action == "list":
        return list(client.list_servers()), COLUMNS["servers"]
    if args.action == "show":
        return client.get_server(args.id), None
    if args.action == "start":
        return client.start_server(args.id), None
    if args.action == "stop":
        return client.stop_server(args.id), None
    if args.action == "reboot":
        return client.reboot_server(args.id, hard=args.hard), None
    try:
        ssh_key = args.ssh_key_file.read_text("utf-8").strip() if args.ssh_key_file else None
    except OSError as error:
        raise UsageError(f"cannot read the SSH key file: {error}") from None
    return client.reinstall_server(args.id, image=args.image, ssh_key=ssh_key,
                                   root_password=not args.no_root_password), None


def listing(args):
    client = _client(args)
    items = {"transactions": client.list_transactions, "orders": client.list_orders,
             "topups": client.list_topups}[args.command]()
    return list(items), COLUMNS[args.command]


def balance(args):
    return _client(args).balance(), None


def _convert(op: Operation, name: str, text: str, raw_json: bool):
    if raw_json:
        try:
            return json.loads(text)
        except ValueError:
            raise UsageError(f"{name}:= needs JSON, not {text!r}") from None
    kind = op.field_type(name)
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
        if kind == "boolean":
            return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}[text.lower()]
        if kind in ("array", "object"):
            return json.loads(text)
    except (ValueError, KeyError):
        raise UsageError(f"{name} must be of type {kind}, not {text!r}") from None
    return text


def call(args):
    client = _client(args)
    op = client.schema.operation(args.operation_id)
    params = {}
    for item in args.params:
        name, separator, text = item.partition("=")
        if not separator or not name:
            raise UsageError(f"parameters are name=value or name:=JSON, not {item!r}")
        raw_json = name.endswith(":")
        name = name.removesuffix(":")
        params[name] = _convert(op, name, text, raw_json)
    if args.all and op.method == "GET":
        return list(client.paginate(op.operation_id, **params)), None
    return client.call(op.operation_id, **params), None


def operations(args):
    return [{"operation_id": op.operation_id, "method": op.method, "path": op.path, "summary": _short(op.summary)}
            for op in schema.bundled().operations.values()], COLUMNS["operations"]


def _short(text: str, limit: int = 60) -> str:
    text = text.split(". ")[0]
    return text if output.width(text) <= limit else text[:limit - 1] + "…"


HANDLERS = {"configure": configure, "servers": servers, "balance": balance, "transactions": listing,
            "orders": listing, "topups": listing, "call": call, "operations": operations}


def _report(error: Exception, output_format: str) -> None:
    if output_format == "json" and isinstance(error, ApiError):
        print(output.as_json({"error": error.as_dict()}), file=sys.stderr)
    else:
        print(f"wuji-cli: error: {error}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # a usage error exits 2 here
    output_format = getattr(args, "output", "table")
    try:
        data, columns = HANDLERS[args.command](args)
    except UsageError as error:
        _report(error, output_format)
        return EXIT_USAGE
    except ApiError as error:
        _report(error, output_format)
        return exit_code(error)
    except KeyboardInterrupt:
        return 130
    if data is not None:
        print(output.render(data, output=output_format, columns=columns))
    return EXIT_OK


def run() -> None:
    """The console script's entry point."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # `wuji-cli … | head`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    sys.exit(code)


if __name__ == "__main__":
    run()
