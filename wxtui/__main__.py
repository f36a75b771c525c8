from wxtui.cli.main import main

raise SystemExit(main())
