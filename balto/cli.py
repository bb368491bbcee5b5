"""Command line: ``balto serve``, ``balto device``, ``balto demo``; one `trio.run` per process."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from balto.config import Settings, load_dotenv
from balto.errors import BaltoError, ConfigError
from balto.logs import configure_logging

if TYPE_CHECKING:
    from balto.device import DeviceRun


def _configure_logging(level: str, fmt: str = "text") -> None:
    configure_logging(level, fmt, sys.stderr)


async def _serve(settings: Settings) -> None:
    from supervisors.root import Running, run_root

    log = logging.getLogger("balto")
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:

            async def root(task_status: trio.TaskStatus[Running]) -> None:
                await run_root(settings, freeze_gc=True, task_status=task_status)
                nursery.cancel_scope.cancel()  # the root is done: stop listening for signals

            running: Running = await nursery.start(root)
            async for signum in signals:
                log.info("received %s", signal.Signals(signum).name)
                if running.services.going_away.is_set():
                    log.warning("second signal: stopping now")
                    nursery.cancel_scope.cancel()
                    return
                running.stop()


def _alone(error: BaseException) -> BaseException:
    """The one error inside nested groups of one, else `error` itself."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def _saw(comando: str) -> Callable[[DeviceRun], bool]:
    """Whether a run has received a frame with this ``comando`` (``recomendar``, ``alerta``)."""
    return lambda run: any(frame.get("comando") == comando for _, frame in run.frames)


async def _device(args: argparse.Namespace) -> int:
    from balto.device import stream_file

    def show(at: float, frame: dict[str, object]) -> None:
        print(f"{at:7.2f}s {json.dumps(frame, ensure_ascii=False)}", flush=True)

    run = await stream_file(
        args.url,
        args.api_key,
        Path(args.file),
        chunk_s=args.chunk_ms / 1000,
        linger_s=args.linger,
        on_frame=show,
        atendente=args.atendente,
        cafile=Path(args.cafile) if args.cafile else None,
        until=_saw(args.until) if args.until else None,
    )
    print(f"closed: code={run.close_code} reason={run.close_reason!r}", flush=True)
    return 0 if run.close_code in (None, 1000) else 1


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen command."""
    parser = argparse.ArgumentParser(prog="balto", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the server (embedded PostgreSQL unless BALTO_DATABASE_URL)")
    sub.add_parser(
        "demo",
        help="run Balto with loopback provider fakes and one simulated counter (demo data in "
        "BALTO_DATA_DIR/demo; real provider keys and BALTO_DATABASE_URL are ignored)",
    )
    device = sub.add_parser("device", help="stream an audio file like a counter device")
    device.add_argument("--url", default="ws://127.0.0.1:8765/ws")
    device.add_argument("--api-key", required=True)
    device.add_argument("--chunk-ms", type=int, default=250)
    device.add_argument("--linger", type=float, default=3.0, help="seconds to wait after the file")
    device.add_argument(
        "--until",
        metavar="COMANDO",
        help="stop waiting as soon as a frame with this comando arrives (e.g. recomendar); "
        "--linger then only bounds the wait",
    )
    device.add_argument("--atendente", help="attendant name to declare after the handshake")
    device.add_argument(
        "--cafile",
        help="PEM certificate(s) to verify a wss:// server against instead of the system CAs "
        "(e.g. a local deployment's self-signed certificate)",
    )
    device.add_argument("file")
    backup = sub.add_parser(
        "backup",
        help="write the database to FILE (pg_dump's custom format): a consistent snapshot, also "
        "while the server runs",
    )
    backup.add_argument("file")
    restore = sub.add_parser(
        "restore",
        help="load FILE (from balto backup) into a database holding no Balto data: a fresh "
        "BALTO_DATA_DIR or an empty BALTO_DATABASE_URL",
    )
    restore.add_argument("file")
    args = parser.parse_args(argv)
    env = load_dotenv(Path(".env"))
    env.update(os.environ)
    try:
        settings = Settings.from_env(env)
    except ConfigError as exc:
        print(f"balto: configuration error: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level, settings.log_format)
    try:
        if args.command == "serve":
            trio.run(_serve, settings)
            return 0
        if args.command == "demo":
            from balto.demo.run import run_demo

            trio.run(run_demo, env)
            return 0
        if args.command in ("backup", "restore"):
            from balto.store.backup import run_backup, run_restore

            run = run_backup if args.command == "backup" else run_restore
            print(trio.run(run, settings, Path(args.file)))
            return 0
        return trio.run(_device, args)
    except BaltoError as exc:
        print(f"balto: {exc}", file=sys.stderr)
        return 1
    except BaseExceptionGroup as group:
        # a start step's error reaches here inside the nurseries it passed through
        failure = _alone(group)
        if isinstance(failure, ConfigError):
            print(f"balto: configuration error: {failure}", file=sys.stderr)
            return 2
        if isinstance(failure, BaltoError):
            print(f"balto: {failure}", file=sys.stderr)
            return 1
        raise
    except KeyboardInterrupt:
        return 130
