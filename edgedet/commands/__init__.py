"""CLI subcommands: one module each, with ``add_arguments(parser)`` and ``run(args)``.

Modules import heavy packages (torch, onnx) inside ``run`` so that ``--help`` stays fast
and works without them.
"""
