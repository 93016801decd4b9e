"""The hardway.kubernetes lab: Debian systemd machines booted with
systemd-nspawn on a local bridge, plus the services a cluster needs from
outside (artifact mirror, apt proxy, OpenBao)."""
