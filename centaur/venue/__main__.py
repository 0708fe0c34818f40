from centaur.cli import main

raise SystemExit(main(["venue", *__import__("sys").argv[1:]]))
