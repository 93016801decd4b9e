#!/usr/bin/env python
"""A steady load of authenticated API requests through the load balancer.

Reads and writes ConfigMaps in one namespace at a fixed rate (default 25 per
second: two reads to one write), each request on a new TLS connection, so
every request is placed by the load balancer on its own. Prints requests,
failures and latency percentiles. Used by the certificate rotation test
(tests/integration) and on its own:

    python bench/api_load.py --kubeconfig "$(tools/lab/lab kubeconfig)" --seconds 60
"""
from __future__ import annotations

import argparse
import http.client
import json
import ssl
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import yaml


@dataclass
class Target:
    host: str
    port: int
    context: ssl.SSLContext

    @classmethod
    def from_kubeconfig(cls, path: str) -> "Target":
        config = yaml.safe_load(open(path, encoding="utf-8"))
        context_name = config["current-context"]
        context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
        url = urlsplit(cluster["server"])
        tls = ssl.create_default_context(cafile=cluster["certificate-authority"])
        # The CA file holds the Kubernetes intermediate only: trust it as the anchor.
        tls.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        tls.load_cert_chain(user["client-certificate"], user["client-key"])
        return cls(url.hostname, url.port or 443, tls)


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, error: str | None):
        with self.lock:
            self.latencies.append(seconds)
            if error:
                self.failures.append(error)

    def summary(self) -> dict:
        with self.lock:
            ordered = sorted(self.latencies)
            failures = list(self.failures)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0

        return {"requests": len(ordered), "failures": len(failures), "p50_ms": round(pct(0.50), 1),
                "p95_ms": round(pct(0.95), 1), "p99_ms": round(pct(0.99), 1), "max_ms": round(pct(1.0), 1),
                "first_failures": failures[:5]}


class Load:
    """Requests at `rate` per second from a pool of threads until stop()."""

    def __init__(self, kubeconfig: str, rate: float = 25.0, namespace: str = "default", workers: int = 8):
        self.target = Target.from_kubeconfig(kubeconfig)
        self.rate, self.namespace, self.workers = rate, namespace, workers
        self.stats = Stats()
        self.name = f"hardway-load-{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._tick = 0
        self._tick_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._started = 0.0

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        connection = http.client.HTTPSConnection(self.target.host, self.target.port, context=self.target.context, timeout=10)
        try:
            headers = {"Accept": "application/json"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/merge-patch+json" if method == "PATCH" else "application/json"
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def _configmaps(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/configmaps"

    def _one(self, tick: int):
        if tick % 3 == 2:
            method, path, body = "PATCH", f"{self._configmaps()}/{self.name}", {"data": {"tick": str(tick)}}
        elif tick % 3 == 1:
            method, path, body = "GET", f"{self._configmaps()}/{self.name}", None
        else:
            method, path, body = "GET", f"{self._configmaps()}?limit=20", None
        started = time.monotonic()
        try:
            status, payload = self.request(method, path, body)
            error = None if 200 <= status < 300 else f"{method} {path}: HTTP {status} {payload[:200]!r}"
        except (OSError, http.client.HTTPException) as exc:
            error = f"{method} {path}: {type(exc).__name__}: {exc}"
        self.stats.add(time.monotonic() - started, error)

    def _worker(self):
        interval = 1.0 / self.rate
        while not self._stop.is_set():
            with self._tick_lock:
                tick = self._tick
                self._tick += 1
            due = self._started + tick * interval
            delay = due - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            self._one(tick)

    def start(self) -> "Load":
        status, payload = self.request("POST", self._configmaps(), {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": self.name}, "data": {"tick": "0"}})
        if status != 201:
            raise RuntimeError(f"could not create ConfigMap {self.name}: HTTP {status} {payload[:300]!r}")
        self._started = time.monotonic()
        self._threads = [threading.Thread(target=self._worker, daemon=True) for index in range(self.workers)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
        elapsed = time.monotonic() - self._started
        self.request("DELETE", f"{self._configmaps()}/{self.name}")
        summary = self.stats.summary()
        summary["seconds"] = round(elapsed, 1)
        summary["rate_per_s"] = round(summary["requests"] / elapsed, 1) if elapsed else 0.0
        return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--rate", type=float, default=25.0, help="requests per second (default 25)")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    load = Load(args.kubeconfig, rate=args.rate).start()
    time.sleep(args.seconds)
    summary = load.stop()
    print(json.dumps(summary, indent=2))
    return 0 if summary["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
