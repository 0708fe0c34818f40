from dev_tools.venue.cli import main

raise SystemExit(main())
