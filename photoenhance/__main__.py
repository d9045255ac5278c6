from photoenhance.cli.main import main

raise SystemExit(main())
