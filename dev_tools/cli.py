"""The ``centaur`` command: the suite's own tools beside freqtrade's commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _venue(args: argparse.Namespace) -> int:
    from dev_tools.venue.cli import run

    return run(args)


def _plugins(args: argparse.Namespace) -> int:
    from centaur_plugins.bootstrap import plugins_enabled
    from centaur_plugins.catalogue import catalogue

    print(json.dumps({"enabled": plugins_enabled(), "catalogue": catalogue()}, indent=2))
    return 0


def _llm(args: argparse.Namespace) -> int:
    from llm_layer import server

    pidfile = Path(args.pidfile)
    if args.action == "stop":
        print("stopped" if server.stop(pidfile) else "no local model server was running")
        return 0
    if args.action == "status":
        print(json.dumps(server.status(pidfile), indent=2))
        return 0
    try:
        return _llm_serve(args, pidfile)
    except (RuntimeError, server.LocalModelUnavailable) as err:
        print(f"centaur llm serve: {err}", file=sys.stderr)
        return 1


def _llm_serve(args: argparse.Namespace, pidfile: Path) -> int:
    from llm_layer import server

    spec = server.model_spec(args.model_path or args.model, alias=args.alias, port=args.port,
                             threads=args.threads or server.DEFAULT_THREADS,
                             ctx_tokens=args.ctx_tokens, prompt_cache=not args.no_prompt_cache)
    if args.foreground:
        server.serve_foreground(spec)
        return 0
    record = server.start(spec, pidfile, Path(args.logfile))
    print(f"local model {spec.alias} serving on {record['base_url']} (pid {record['pid']}); "
          "stop it with `centaur llm stop`")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="centaur", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    venue = sub.add_parser("venue", help="run the local Binance-protocol venue (dev/test tool)")
    from dev_tools.venue.cli import add_arguments

    add_arguments(venue)
    venue.set_defaults(func=_venue)

    llm = sub.add_parser("llm", help="the local OpenAI-compatible model server (127.0.0.1)")
    llm.add_argument("action", choices=["serve", "stop", "status"])
    llm.add_argument("--port", type=int, default=8012)
    llm.add_argument("--model", default="SmolLM2-135M-Instruct",
                     help="a name from llm_layer/models.py (`python -m llm_layer.models list`; "
                          "split models after `make llm-fetch`) or a path to a GGUF file")
    llm.add_argument("--model-path", default=None, help="a GGUF file (same as --model PATH)")
    llm.add_argument("--alias", default=None,
                     help="the model name clients send (centaur.llm.model; default: the "
                          "registered name, or the GGUF file's stem)")
    llm.add_argument("--no-prompt-cache", action="store_true",
                     help="re-read the whole prompt on every call (for measuring the cache)")
    llm.add_argument("--threads", type=int, default=None,
                     help="llama.cpp threads (default: half the cores)")
    llm.add_argument("--ctx-tokens", type=int, default=2048)
    llm.add_argument("--foreground", action="store_true", help="serve in this process")
    llm.add_argument("--pidfile", default="user_data/centaur_state/llm-server.json")
    llm.add_argument("--logfile", default="user_data/logs/llm-server.log")
    llm.set_defaults(func=_llm)

    sub.add_parser("hyperopt", add_help=False,
                   help="freqtrade's hyperopt on a shared Optuna study (PostgreSQL or SQLite): "
                        "centaur hyperopt --help")
    plugins = sub.add_parser("plugins", help="show the plugins the suite registers")
    plugins.set_defaults(func=_plugins)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hyperopt"]:  # freqtrade's own options: parsed by dev_tools.study.cli
        from dev_tools.study.cli import main as hyperopt

        return hyperopt(argv[1:])
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
