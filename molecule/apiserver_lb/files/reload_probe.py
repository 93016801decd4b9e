# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Watch HAProxy's frontend from the load balancer itself while it reloads.

Usage: python3 reload_probe.py PORT STOP_FILE RESULT_FILE

Connects (and closes) a new TCP connection to 127.0.0.1:PORT every 10 ms until STOP_FILE
exists. The scenario's apiservers are down, so HAProxy accepts each connection and closes
it: what counts is that the listening socket never refuses one, before, during and after
the reload. RESULT_FILE.started appears after the first accepted connection; RESULT_FILE
gets, as JSON, how many connects were tried and how many failed (with the first errors).
"""
import json
import os
import socket
import sys
import time

HOST = "127.0.0.1"


def main():
    port, stop_file, result_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    socket.create_connection((HOST, port), timeout=5).close()
    with open(result_file + ".started", "w", encoding="utf-8"):
        pass
    result = {"attempts": 0, "refused": 0, "errors": []}
    deadline = time.monotonic() + 600
    while not os.path.exists(stop_file) and time.monotonic() < deadline:
        result["attempts"] += 1
        try:
            socket.create_connection((HOST, port), timeout=2).close()
        except OSError as exc:
            result["refused"] += 1
            result["errors"] = (result["errors"] + [str(exc)])[:5]
        time.sleep(0.01)
    with open(result_file + ".new", "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    os.rename(result_file + ".new", result_file)


if __name__ == "__main__":
    main()
