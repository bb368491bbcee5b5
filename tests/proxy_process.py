"""A real nginx in front of several Balto processes, on loopback, for the cluster test.

Debian's ``nginx-light`` (``.ci/run`` installs it as root). The configuration is written to the
test's directory and nginx runs in the foreground (``daemon off``, one process) with every path
of its own under that directory.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import trio

from tests.server_process import free_port

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None
)

_CONF = """
daemon off;
master_process off;
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # as deploy/nginx/nginx.conf: only a WebSocket upgrade is passed on
    map $http_upgrade $upgrade_websocket {{ ~*^websocket$ websocket; default ''; }}
    map $http_upgrade $connection_upgrade {{ ~*^websocket$ upgrade; default close; }}
    upstream balto {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://balto;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $upgrade_websocket;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_connect_timeout 1s;
            proxy_read_timeout 3600s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


def write_config(directory: Path, upstream_ports: list[int]) -> tuple[Path, int]:
    """Write the configuration under `directory`; return its path and the proxy's port."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = "\n".join(
        # max_fails=1: a dead instance is skipped at once for 2 s instead of retried per request
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;"
        for p in upstream_ports
    )
    conf = directory / "nginx.conf"
    conf.write_text(_CONF.format(dir=directory, servers=servers, port=port))
    return conf, port


@asynccontextmanager
async def nginx_proxy(directory: Path, upstream_ports: list[int]) -> AsyncIterator[str]:
    """Run nginx balancing HTTP and ``/ws`` over `upstream_ports`; yield its base URL."""
    assert NGINX is not None, "nginx is not installed"
    conf, port = write_config(directory, upstream_ports)
    process = await trio.lowlevel.open_process(
        [NGINX, "-p", str(directory), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with trio.fail_after(10):
            while True:
                assert process.returncode is None, (directory / "error.log").read_text()
                try:
                    async with httpx.AsyncClient(timeout=2) as http:
                        if (await http.get(base + "/healthz")).status_code == 200:
                            break
                except httpx.TransportError:
                    pass
                await trio.sleep(0.05)
        yield base
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGQUIT)
            with trio.CancelScope(shield=True), trio.move_on_after(5):
                await process.wait()
        if process.returncode is None:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()
