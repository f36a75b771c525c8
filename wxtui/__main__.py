from wxtui.cli import main

raise SystemExit(main())
