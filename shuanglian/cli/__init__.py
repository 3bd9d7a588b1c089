"""The `shuanglian` command.

`main.py` is the root Typer app (the console script) that mounts every domain's `cli.py`;
`kit.py` is what those `cli.py` files share. This `__init__` stays empty on purpose: a domain's
`cli.py` imports `shuanglian.cli.kit`, which runs this file first, so anything that imported
the domains here would close an import cycle.
"""
