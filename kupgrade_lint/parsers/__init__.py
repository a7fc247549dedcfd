"""Parsers for the files operators really have: env files, systemd units, flags, Corefiles, PromQL, X.509."""
